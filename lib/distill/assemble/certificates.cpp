#include <algorithm>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <tuple>

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <distill/assemble/certificates.hpp>
#include <distill/core/digest.hpp>

namespace distill::assemble {
namespace {

constexpr std::string_view k_pem_begin = "-----BEGIN CERTIFICATE-----";
constexpr std::string_view k_pem_end = "-----END CERTIFICATE-----";

constexpr std::uint32_t k_jks_magic = 0xFEEDFEEDU;
constexpr std::uint32_t k_jks_version = 2;
constexpr std::uint32_t k_jks_trusted_certificate = 2;
constexpr std::string_view k_jks_certificate_type = "X.509";
// The JDK mixes this fixed phrase into the keyed integrity digest after the password.
constexpr std::string_view k_jks_whitener = "Mighty Aphrodite";

constexpr std::string_view k_alias_prefix = "debian:";
constexpr std::string_view k_alias_suffix = ".pem";
constexpr std::string_view k_alias_fallback = "certificate";

using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;
using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

/// The reason OpenSSL gave for the last failure, and an empty error queue afterwards (so a
/// stale error does not show up in an unrelated later diagnostic).
std::string openssl_reason() {
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    const char* reason = code == 0 ? nullptr : ERR_reason_error_string(code);
    return reason == nullptr ? std::string("unknown OpenSSL error") : std::string(reason);
}

BioPtr memory_bio(std::string_view data) {
    if (data.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
        throw Error("PEM block too large");
    }
    BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())), &BIO_free);
    if (!bio) {
        throw Error("cannot allocate a memory BIO (OpenSSL)");
    }
    return bio;
}

// Certificates are never encrypted; refusing every passphrase keeps OpenSSL's default callback
// from prompting on the terminal when a block claims to be.
int no_passphrase(char* /*buffer*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) {
    return 0;
}

std::string der_of(X509* certificate) {
    const int length = i2d_X509(certificate, nullptr);
    if (length <= 0) {
        throw Error(fmt::format("cannot DER-encode a certificate: {}", openssl_reason()));
    }
    std::string der(static_cast<std::size_t>(length), '\0');
    auto* out = reinterpret_cast<unsigned char*>(der.data());
    if (i2d_X509(certificate, &out) != length) {
        throw Error(fmt::format("cannot DER-encode a certificate: {}", openssl_reason()));
    }
    return der;
}

X509Ptr parse_der(const Certificate& certificate) {
    if (certificate.der.size() > static_cast<std::size_t>(std::numeric_limits<long>::max())) {
        throw Error(fmt::format("{}: certificate too large", certificate.name));
    }
    const auto* in = reinterpret_cast<const unsigned char*>(certificate.der.data());
    const auto* const end = in + certificate.der.size();
    X509Ptr parsed(d2i_X509(nullptr, &in, static_cast<long>(certificate.der.size())), &X509_free);
    if (!parsed) {
        throw Error(fmt::format("{}: not a DER-encoded X.509 certificate: {}", certificate.name,
                                openssl_reason()));
    }
    // Bytes after the certificate would be silently dropped by OpenSSL but kept in the
    // keystore, where the JVM's parser may judge them differently.
    if (in != end) {
        throw Error(fmt::format("{}: trailing bytes after the DER certificate", certificate.name));
    }
    return parsed;
}

// --- UTF-8 -------------------------------------------------------------------------------

/// Decodes the UTF-8 sequence at `text[pos]`: its code point and length, or nothing if it is
/// malformed (overlong, a surrogate, beyond U+10FFFF, truncated).
std::optional<std::pair<char32_t, std::size_t>> decode_utf8(std::string_view text,
                                                            std::size_t pos) {
    const auto lead = static_cast<unsigned char>(text[pos]);
    std::size_t length = 0;
    char32_t code = 0;
    char32_t minimum = 0;
    if (lead < 0x80U) {
        return std::pair{static_cast<char32_t>(lead), std::size_t{1}};
    }
    if ((lead & 0xE0U) == 0xC0U) {
        length = 2;
        code = lead & 0x1FU;
        minimum = 0x80;
    } else if ((lead & 0xF0U) == 0xE0U) {
        length = 3;
        code = lead & 0x0FU;
        minimum = 0x800;
    } else if ((lead & 0xF8U) == 0xF0U) {
        length = 4;
        code = lead & 0x07U;
        minimum = 0x10000;
    } else {
        return std::nullopt;
    }
    if (pos + length > text.size()) {
        return std::nullopt;
    }
    for (std::size_t i = 1; i < length; ++i) {
        const auto next = static_cast<unsigned char>(text[pos + i]);
        if ((next & 0xC0U) != 0x80U) {
            return std::nullopt;
        }
        code = (code << 6U) | (next & 0x3FU);
    }
    if (code < minimum || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
        return std::nullopt;
    }
    return std::pair{code, length};
}

void append_utf8(std::string& out, char32_t code) {
    if (code < 0x80) {
        out += static_cast<char>(code);
    } else if (code < 0x800) {
        out += static_cast<char>(0xC0U | (code >> 6U));
        out += static_cast<char>(0x80U | (code & 0x3FU));
    } else if (code < 0x10000) {
        out += static_cast<char>(0xE0U | (code >> 12U));
        out += static_cast<char>(0x80U | ((code >> 6U) & 0x3FU));
        out += static_cast<char>(0x80U | (code & 0x3FU));
    } else {
        out += static_cast<char>(0xF0U | (code >> 18U));
        out += static_cast<char>(0x80U | ((code >> 12U) & 0x3FU));
        out += static_cast<char>(0x80U | ((code >> 6U) & 0x3FU));
        out += static_cast<char>(0x80U | (code & 0x3FU));
    }
}

/// The lowercase form of a letter as Java's String.toLowerCase(Locale.ENGLISH) gives it, for
/// the letters of ASCII, Latin-1 and Latin Extended-A (the scripts of Mozilla's certificate
/// file names); other code points are returned unchanged. U+0130 (capital I with dot above)
/// lowercases to two code points and is handled by the caller.
char32_t lowercase_latin(char32_t code) {
    if (code >= U'A' && code <= U'Z') {
        return code + 0x20;
    }
    if (code >= 0xC0 && code <= 0xDE && code != 0xD7) {
        return code + 0x20;
    }
    const bool even_is_upper = (code >= 0x100 && code <= 0x12F) ||
                               (code >= 0x132 && code <= 0x137) || (code >= 0x14A && code <= 0x177);
    const bool odd_is_upper = (code >= 0x139 && code <= 0x148) || (code >= 0x179 && code <= 0x17E);
    if ((even_is_upper && code % 2 == 0) || (odd_is_upper && code % 2 == 1)) {
        return code + 1;
    }
    if (code == 0x178) {
        return 0xFF;
    }
    return code;
}

/// Whether a code point beyond Latin Extended-A belongs to a block without letter case
/// (combining marks, the scripts from Hebrew to Thai, punctuation, CJK, kana, Hangul), so that
/// Java's lowercasing leaves it as it is.
bool caseless(char32_t code) {
    return (code >= 0x300 && code <= 0x36F) || (code >= 0x590 && code <= 0xE7F) ||
           (code >= 0x2000 && code <= 0x206F) || (code >= 0x3000 && code <= 0x30FF) ||
           (code >= 0x3400 && code <= 0x4DBF) || (code >= 0x4E00 && code <= 0x9FFF) ||
           (code >= 0xAC00 && code <= 0xD7A3);
}

/// `text` lowercased for an alias, as valid UTF-8 that Java's lowercasing leaves unchanged.
/// That matters: the JDK's JKS looks every alias up lowercased, so an entry stored under an
/// alias with a capital letter is invisible to the trust manager and its certificate silently
/// untrusted. Letters whose lowercase is not known here, control characters and bytes that
/// are not valid UTF-8 (which the JVM would refuse) become '_'; the alias is only a label.
/// The result has no NUL and nothing beyond U+FFFF, so it is also its own modified UTF-8.
std::string alias_text(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t pos = 0; pos < text.size();) {
        const auto decoded = decode_utf8(text, pos);
        if (!decoded) {
            out += '_';
            ++pos;
            continue;
        }
        const auto [code, length] = *decoded;
        pos += length;
        const bool control = code < 0x20 || code == 0x7F || (code >= 0x80 && code < 0xA0);
        if (code == 0x130) {
            append_utf8(out, U'i');
            append_utf8(out, 0x307);
        } else if (!control && (code <= 0x17F || caseless(code))) {
            append_utf8(out, lowercase_latin(code));
        } else {
            out += '_';
        }
    }
    return out;
}

/// The password as Java sees it, a char[] of UTF-16 code units, in the big-endian byte order
/// the JDK feeds them to the digest.
std::string utf16be(std::string_view text) {
    std::string out;
    out.reserve(text.size() * 2);
    const auto append_unit = [&](char32_t unit) {
        out += static_cast<char>((unit >> 8U) & 0xFFU);
        out += static_cast<char>(unit & 0xFFU);
    };
    for (std::size_t pos = 0; pos < text.size();) {
        const auto decoded = decode_utf8(text, pos);
        if (!decoded) {
            throw Error("the keystore password is not valid UTF-8");
        }
        const auto [code, length] = *decoded;
        pos += length;
        if (code >= 0x10000) {
            const char32_t offset = code - 0x10000;
            append_unit(0xD800 + (offset >> 10U));
            append_unit(0xDC00 + (offset & 0x3FFU));
        } else {
            append_unit(code);
        }
    }
    return out;
}

// --- JKS -----------------------------------------------------------------------------------

/// The part of an alias taken from a certificate's name: its basename, without the "#N" that
/// read_pem_certificates appends and without extension, lowercased.
std::string alias_stem(std::string_view name) {
    if (const auto hash = name.rfind('#');
        hash != std::string_view::npos && hash + 1 < name.size() &&
        name.find_first_not_of("0123456789", hash + 1) == std::string_view::npos) {
        name = name.substr(0, hash);
    }
    if (const auto slash = name.rfind('/'); slash != std::string_view::npos) {
        name = name.substr(slash + 1);
    }
    if (const auto dot = name.rfind('.'); dot != std::string_view::npos && dot > 0) {
        name = name.substr(0, dot);
    }
    const auto stem = alias_text(name);
    return stem.empty() ? std::string(k_alias_fallback) : stem;
}

std::string make_alias(std::string_view stem, unsigned number) {
    return number <= 1 ? fmt::format("{}{}{}", k_alias_prefix, stem, k_alias_suffix)
                       : fmt::format("{}{}-{}{}", k_alias_prefix, stem, number, k_alias_suffix);
}

struct Entry {
    std::string alias;
    const Certificate* certificate = nullptr;
};

/// One entry per certificate, with unique aliases, sorted by alias. The numbering of
/// certificates that share a stem follows their DER bytes, not the input order, so that the
/// keystore does not depend on the order the certificates were found in.
std::vector<Entry> keystore_entries(const std::vector<Certificate>& certificates) {
    std::map<std::string, std::vector<const Certificate*>> by_stem;
    for (const auto& certificate : certificates) {
        by_stem[alias_stem(certificate.name)].push_back(&certificate);
    }
    // Every plain alias is reserved first, so a numbered alias never takes the name a
    // certificate would have had on its own ("a-2.crt" beside two "a.crt").
    std::set<std::string> taken;
    for (const auto& [stem, members] : by_stem) {
        taken.insert(make_alias(stem, 1));
    }
    std::vector<Entry> entries;
    entries.reserve(certificates.size());
    for (auto& [stem, members] : by_stem) {
        std::sort(members.begin(), members.end(), [](const Certificate* a, const Certificate* b) {
            return std::tie(a->der, a->name) < std::tie(b->der, b->name);
        });
        entries.push_back({make_alias(stem, 1), members.front()});
        unsigned number = 2;
        for (std::size_t i = 1; i < members.size(); ++i) {
            while (taken.contains(make_alias(stem, number))) {
                ++number;
            }
            auto alias = make_alias(stem, number);
            taken.insert(alias);
            entries.push_back({std::move(alias), members[i]});
        }
    }
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return a.alias < b.alias; });
    return entries;
}

void append_u16(std::string& out, std::uint16_t value) {
    out += static_cast<char>((value >> 8U) & 0xFFU);
    out += static_cast<char>(value & 0xFFU);
}

void append_u32(std::string& out, std::uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8) {
        out += static_cast<char>((value >> static_cast<unsigned>(shift)) & 0xFFU);
    }
}

void append_u64(std::string& out, std::uint64_t value) {
    for (int shift = 56; shift >= 0; shift -= 8) {
        out += static_cast<char>((value >> static_cast<unsigned>(shift)) & 0xFFU);
    }
}

/// DataOutputStream.writeUTF: a 16-bit byte count, then modified UTF-8, which for the text
/// written here (no NUL, nothing beyond U+FFFF) is the UTF-8 itself.
void append_java_utf(std::string& out, std::string_view text, std::string_view what) {
    if (text.size() > std::numeric_limits<std::uint16_t>::max()) {
        throw Error(fmt::format("{}: name too long for a Java keystore alias", what));
    }
    append_u16(out, static_cast<std::uint16_t>(text.size()));
    out += text;
}

/// A count or length as JKS stores it, a Java int.
std::uint32_t java_int(std::size_t value, std::string_view what) {
    if (value > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
        throw Error(fmt::format("{}: too large for a Java keystore", what));
    }
    return static_cast<std::uint32_t>(value);
}

} // namespace

std::vector<Certificate> read_pem_certificates(std::string_view text, std::string_view origin) {
    std::vector<Certificate> certificates;
    for (auto begin = text.find(k_pem_begin); begin != std::string_view::npos;
         begin = text.find(k_pem_begin, begin + k_pem_begin.size())) {
        const auto line =
            1 + std::count(text.begin(), text.begin() + static_cast<long>(begin), '\n');
        const auto end = text.find(k_pem_end, begin + k_pem_begin.size());
        if (end == std::string_view::npos) {
            throw Error(
                fmt::format("{}:{}: certificate block without \"{}\"", origin, line, k_pem_end));
        }
        // OpenSSL's reader wants whole lines; the END marker may be the text's last bytes.
        std::string block(text.substr(begin, end + k_pem_end.size() - begin));
        block += '\n';
        const auto bio = memory_bio(block);
        X509Ptr certificate(PEM_read_bio_X509(bio.get(), nullptr, &no_passphrase, nullptr),
                            &X509_free);
        if (!certificate) {
            throw Error(
                fmt::format("{}:{}: not a valid certificate: {}", origin, line, openssl_reason()));
        }
        auto name = certificates.empty() ? std::string(origin)
                                         : fmt::format("{}#{}", origin, certificates.size() + 1);
        certificates.push_back({std::move(name), der_of(certificate.get())});
    }
    return certificates;
}

std::string pem_bundle(const std::vector<Certificate>& certificates) {
    std::string bundle;
    for (const auto& certificate : certificates) {
        const auto parsed = parse_der(certificate);
        BioPtr bio(BIO_new(BIO_s_mem()), &BIO_free);
        if (!bio || PEM_write_bio_X509(bio.get(), parsed.get()) != 1) {
            throw Error(
                fmt::format("{}: cannot PEM-encode: {}", certificate.name, openssl_reason()));
        }
        char* data = nullptr;
        const long size = BIO_get_mem_data(bio.get(), &data);
        bundle.append(data, static_cast<std::size_t>(size));
    }
    return bundle;
}

std::uint32_t subject_hash(const Certificate& certificate) {
    const auto parsed = parse_der(certificate);
    // X509_subject_name_hash is this call without the success flag; a failure (no SHA-1 in the
    // loaded providers) would otherwise pass for the hash 0.
    int ok = 0;
    const unsigned long hash =
        X509_NAME_hash_ex(X509_get_subject_name(parsed.get()), nullptr, nullptr, &ok);
    if (ok == 0) {
        throw Error(fmt::format("{}: cannot hash the subject name: {}", certificate.name,
                                openssl_reason()));
    }
    return static_cast<std::uint32_t>(hash);
}

std::string certificate_link_name(std::string_view path) {
    constexpr std::string_view k_crt = ".crt";
    std::string_view base = path.substr(path.rfind('/') + 1);
    // basename(1) keeps a name that is nothing but the suffix.
    if (base.size() > k_crt.size() && base.ends_with(k_crt)) {
        base.remove_suffix(k_crt.size());
    }
    std::string name(base);
    for (char& c : name) {
        if (c == ' ' || c == ',') {
            c = '_';
        } else if (c == '(' || c == ')') {
            c = '=';
        }
    }
    return name + ".pem";
}

std::vector<Link> certificate_directory(const std::vector<CertificateFile>& files) {
    // update-ca-certificates: one link per file, the last file wins a name.
    std::map<std::string, const CertificateFile*> by_link;
    for (const auto& file : files) {
        by_link[certificate_link_name(file.path)] = &file;
    }
    std::vector<Link> links;
    // openssl rehash: the directory's files in name order (the map's), each certificate once.
    std::set<std::string_view> linked;
    std::map<std::uint32_t, unsigned> taken;
    for (const auto& [name, file] : by_link) {
        links.push_back({name, file->path});
        if (file->certificates.size() != 1 || !linked.insert(file->certificates[0].der).second) {
            continue;
        }
        const auto hash = subject_hash(file->certificates[0]);
        links.push_back({fmt::format("{:08x}.{}", hash, taken[hash]++), name});
    }
    std::sort(links.begin(), links.end(),
              [](const Link& a, const Link& b) { return a.name < b.name; });
    return links;
}

std::string java_keystore(const std::vector<Certificate>& certificates, std::int64_t epoch_seconds,
                          std::string_view password) {
    constexpr std::int64_t k_millis = 1000;
    if (epoch_seconds > std::numeric_limits<std::int64_t>::max() / k_millis ||
        epoch_seconds < std::numeric_limits<std::int64_t>::min() / k_millis) {
        throw Error(fmt::format("keystore date {} is out of range", epoch_seconds));
    }
    const auto created = static_cast<std::uint64_t>(epoch_seconds * k_millis);

    std::string store;
    append_u32(store, k_jks_magic);
    append_u32(store, k_jks_version);
    append_u32(store, java_int(certificates.size(), "certificate count"));
    for (const auto& entry : keystore_entries(certificates)) {
        const auto& certificate = *entry.certificate;
        // The JVM parses every entry when it loads the store; one bad certificate would make
        // it refuse the whole truststore, so it is refused here, naming its origin.
        (void)parse_der(certificate);
        append_u32(store, k_jks_trusted_certificate);
        append_java_utf(store, entry.alias, certificate.name);
        append_u64(store, created);
        append_java_utf(store, k_jks_certificate_type, certificate.name);
        append_u32(store, java_int(certificate.der.size(), certificate.name));
        store += certificate.der;
    }

    core::Hasher sha1(core::HashAlgorithm::sha1);
    sha1.update(utf16be(password));
    sha1.update(k_jks_whitener);
    sha1.update(store);
    store += sha1.raw_digest();
    return store;
}

} // namespace distill::assemble
