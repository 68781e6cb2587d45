#include <memory>
#include <optional>
#include <span>
#include <system_error>
#include <vector>

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <distill/core/archive.hpp>
#include <distill/core/error.hpp>
#include <distill/core/fs.hpp>
#include <distill/core/gzip.hpp>
#include <distill/core/text.hpp>
#include <distill/distro/alpine/signature.hpp>
#include <distill/unpack/tar.hpp>

namespace distill::distro::alpine {
namespace {

namespace fs = std::filesystem;

constexpr std::uintmax_t k_max_key_file = 64U << 10U;
constexpr std::size_t k_max_keys = 1024;
/// A signature is as long as its key's modulus: 512 bytes for RSA-4096.
constexpr std::uint64_t k_max_signature = 64U << 10U;
/// apk's signers add one entry per key; a few are plenty.
constexpr std::size_t k_max_signature_entries = 16;
/// What a signature tar may hold past its last entry (padding), unread.
constexpr std::uint64_t k_max_signature_slack = 1U << 20U;

using PublicKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

/// The RSA public key of a PEM text, or nullptr when it is not one.
PublicKey parse_public_key(std::string_view pem) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
    if (!bio) {
        return {nullptr, &EVP_PKEY_free};
    }
    PublicKey key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
    if (key && EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) {
        key.reset();
    }
    return key;
}

void add_key(Keyring& keyring, const fs::path& file) {
    std::error_code error;
    const auto size = fs::file_size(file, error);
    if (error) {
        throw Error(fmt::format("keyring {}: {}: {}", keyring.source.string(), file.string(),
                                error.message()));
    }
    if (size > k_max_key_file) {
        throw Error(fmt::format("keyring {}: {} is larger than {} bytes, not a public key",
                                keyring.source.string(), file.string(), k_max_key_file));
    }
    std::string pem = core::read_file(file);
    if (!parse_public_key(pem)) {
        throw Error(fmt::format("keyring {}: {} is not an RSA public key in PEM form",
                                keyring.source.string(), file.string()));
    }
    keyring.keys[file.filename().string()] = std::move(pem);
}

/// The digest a signature type signs, or nullptr for a type apk does not verify with RSA.
const EVP_MD* digest_of(std::string_view type) {
    if (type == "RSA") {
        return EVP_sha1();
    }
    if (type == "RSA256") {
        return EVP_sha256();
    }
    if (type == "RSA512") {
        return EVP_sha512();
    }
    return nullptr;
}

/// The signature that decides, as apk picks it: the first whose key is trusted.
struct Chosen {
    Signer signer;
    const EVP_MD* digest = nullptr;
    std::string signature;
};

/// Reads the signature member (the current one of `members`): every entry must be a
/// `.SIGN.*` file. Returns the deciding signature, or nullopt with the key names seen.
std::optional<Chosen> read_signatures(core::GzipMembers& members, const Keyring& keys,
                                      std::string_view origin, std::vector<std::string>& seen) {
    const std::string where = fmt::format("{}: signature member", origin);
    core::TarStream tar([&](std::span<char> buffer) { return members.read(buffer); },
                        core::TarStream::Filters::none, where);
    std::optional<Chosen> chosen;
    std::size_t entries = 0;
    while (archive_entry* entry = tar.next()) {
        const std::string name = unpack::entry_path(entry, origin, "signature member");
        if (!name.starts_with(".SIGN.") || archive_entry_filetype(entry) != AE_IFREG) {
            throw VerificationError(
                fmt::format("{}: not signed: its first gzip member holds `{}`, not a .SIGN.* entry",
                            origin, core::printable(name)));
        }
        if (++entries > k_max_signature_entries) {
            throw VerificationError(
                fmt::format("{}: more than {} signature entries", origin, k_max_signature_entries));
        }
        // .SIGN.<type>.<key file name>
        const std::string_view rest = std::string_view(name).substr(6);
        const auto dot = rest.find('.');
        if (dot == std::string_view::npos) {
            continue;
        }
        const std::string type(rest.substr(0, dot));
        const std::string key(rest.substr(dot + 1));
        const EVP_MD* digest = digest_of(type);
        if (digest == nullptr || key.empty()) {
            continue; // a kind of signature apk does not check either
        }
        seen.push_back(key);
        if (!chosen && keys.keys.contains(key)) {
            chosen = Chosen{Signer{key, type}, digest,
                            unpack::read_entry_text(tar, entry, name, k_max_signature)};
        }
    }
    if (entries == 0) {
        throw VerificationError(
            fmt::format("{}: not signed: its first gzip member holds no .SIGN.* entry", origin));
    }
    return chosen;
}

bool signature_holds(const Chosen& chosen, const std::string& pem, std::string_view data) {
    const auto key = parse_public_key(pem);
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                    &EVP_MD_CTX_free);
    if (!key || !context) {
        return false;
    }
    // RSA keys sign with PKCS#1 v1.5 padding unless told otherwise, as abuild-sign does.
    if (EVP_DigestVerifyInit(context.get(), nullptr, chosen.digest, nullptr, key.get()) != 1) {
        return false;
    }
    const auto* signature = reinterpret_cast<const unsigned char*>(chosen.signature.data());
    const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
    return EVP_DigestVerify(context.get(), signature, chosen.signature.size(), bytes,
                            data.size()) == 1;
}

Signer verify(std::string_view bytes, const Keyring& keys, std::string_view origin) {
    std::size_t offset = 0;
    core::GzipMembers members(
        [&](std::span<char> buffer) {
            const std::size_t count = std::min(buffer.size(), bytes.size() - offset);
            std::copy_n(bytes.data() + offset, count, buffer.data());
            offset += count;
            return count;
        },
        std::string(origin), 2);
    if (!members.next_member()) {
        throw VerificationError(fmt::format("{}: an empty file, not a signed one", origin));
    }
    std::vector<std::string> seen;
    const auto chosen = read_signatures(members, keys, origin, seen);
    if (!chosen) {
        std::vector<std::string_view> names(seen.begin(), seen.end());
        throw VerificationError(fmt::format(
            "{}: signed by {} {}, which the keyring {} does not hold; add the key file there",
            origin, names.size() == 1 ? "the key" : "the keys",
            names.empty() ? "of no kind apk checks" : core::join(names), keys.source.string()));
    }
    if (!members.next_member(k_max_signature_slack)) {
        throw VerificationError(fmt::format("{}: nothing follows the signature", origin));
    }
    std::vector<char> scratch(64U << 10U);
    while (members.read(std::span(scratch)) != 0) {
    }
    const auto signed_bytes =
        bytes.substr(members.member_start(), members.position() - members.member_start());
    if (!signature_holds(*chosen, keys.keys.at(chosen->signer.key_name), signed_bytes)) {
        throw VerificationError(fmt::format("{}: the {} signature by {} does not verify", origin,
                                            chosen->signer.algorithm, chosen->signer.key_name));
    }
    return chosen->signer;
}

} // namespace

Keyring load_keyring(const fs::path& path) {
    Keyring keyring;
    keyring.source = path;
    std::error_code error;
    const auto status = fs::status(path, error);
    if (error) {
        throw Error(fmt::format("keyring {}: {}", path.string(), error.message()));
    }
    if (fs::is_regular_file(status)) {
        add_key(keyring, path);
        return keyring;
    }
    if (!fs::is_directory(status)) {
        throw Error(
            fmt::format("keyring {}: neither a key file nor a directory of keys", path.string()));
    }
    try {
        for (const auto& item : fs::directory_iterator(path)) {
            if (!item.is_regular_file() || !item.path().filename().string().ends_with(".pub")) {
                continue;
            }
            if (keyring.keys.size() >= k_max_keys) {
                throw Error(
                    fmt::format("keyring {}: more than {} keys", path.string(), k_max_keys));
            }
            add_key(keyring, item.path());
        }
    } catch (const fs::filesystem_error& failure) {
        throw Error(fmt::format("keyring {}: {}", path.string(), failure.code().message()));
    }
    if (keyring.keys.empty()) {
        throw Error(fmt::format("keyring {}: no key files (*.pub) in it", path.string()));
    }
    return keyring;
}

Signer verify_signed_file(std::string_view bytes, const Keyring& keys, std::string_view origin) {
    try {
        return verify(bytes, keys, origin);
    } catch (const VerificationError&) {
        throw;
    } catch (const Error& error) {
        // Malformed gzip or tar: the file is not what was signed, whatever it is.
        throw VerificationError(error.what());
    }
}

std::string apk_checksum(std::string_view sha1_raw_digest) {
    std::string encoded(4 * ((sha1_raw_digest.size() + 2) / 3) + 1, '\0');
    const int length =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                        reinterpret_cast<const unsigned char*>(sha1_raw_digest.data()),
                        static_cast<int>(sha1_raw_digest.size()));
    encoded.resize(static_cast<std::size_t>(length));
    return "Q1" + encoded;
}

} // namespace distill::distro::alpine
