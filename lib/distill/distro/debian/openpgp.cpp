#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <openssl/evp.h>

#include <distill/core/fs.hpp>
#include <distill/core/process.hpp>
#include <distill/distro/debian/control.hpp>
#include <distill/distro/debian/openpgp.hpp>

namespace distill::distro::debian {
namespace {

constexpr std::string_view k_signed_begin = "-----BEGIN PGP SIGNED MESSAGE-----";
constexpr std::string_view k_signature_begin = "-----BEGIN PGP SIGNATURE-----";
constexpr std::string_view k_signature_end = "-----END PGP SIGNATURE-----";
constexpr std::string_view k_key_begin = "-----BEGIN PGP PUBLIC KEY BLOCK-----";

std::size_t count(std::string_view text, std::string_view needle) {
    std::size_t n = 0;
    for (auto pos = text.find(needle); pos != std::string_view::npos;
         pos = text.find(needle, pos + needle.size())) {
        ++n;
    }
    return n;
}

/// apt's rule: an InRelease is one clearsigned message, with nothing before or after it that
/// a parser could mistake for content.
void check_clearsigned_shape(std::string_view content, std::string_view origin) {
    const auto first = content.find_first_not_of(" \t\r\n");
    const bool starts_signed =
        first != std::string_view::npos && content.substr(first).starts_with(k_signed_begin);
    if (!starts_signed) {
        throw VerificationError(fmt::format("{}: not a clearsigned file (no \"{}\" at the start)",
                                            origin, k_signed_begin));
    }
    if (count(content, k_signed_begin) != 1 || count(content, k_signature_begin) != 1 ||
        count(content, k_signature_end) != 1) {
        throw VerificationError(
            fmt::format("{}: must hold exactly one clearsigned message", origin));
    }
    const auto end = content.find(k_signature_end) + k_signature_end.size();
    if (content.substr(end).find_first_not_of(" \t\r\n") != std::string_view::npos) {
        throw VerificationError(
            fmt::format("{}: text after the signature, outside what was signed", origin));
    }
}

struct StatusLine {
    std::string keyword;
    std::vector<std::string> args;
};

std::vector<StatusLine> parse_status(std::string_view out) {
    std::vector<StatusLine> lines;
    for (const auto& line : split_lines(out)) {
        if (!line.starts_with("[GNUPG:] ")) {
            continue;
        }
        auto words = split_words(std::string_view(line).substr(9));
        if (words.empty()) {
            continue;
        }
        StatusLine status{words.front(), {}};
        status.args.assign(words.begin() + 1, words.end());
        lines.push_back(std::move(status));
    }
    return lines;
}

// OpenPGP hash algorithm ids (RFC 4880 9.4) too weak to vouch for an archive.
bool weak_digest(const std::string& id) {
    return id == "1" || id == "2" || id == "3";
}

} // namespace

std::string dearmor_keyring(std::string_view content, std::string_view origin) {
    if (content.find(k_key_begin) == std::string_view::npos) {
        return std::string(content);
    }
    std::string binary;
    std::size_t pos = 0;
    while ((pos = content.find(k_key_begin, pos)) != std::string_view::npos) {
        // Armor headers ("Comment: ...") end at the first empty line.
        const auto body = content.find("\n\n", pos);
        const auto body_crlf = content.find("\n\r\n", pos);
        auto start = std::min(body, body_crlf);
        if (start == std::string_view::npos) {
            throw Error(fmt::format("{}: malformed armored key", origin));
        }
        start = content.find('\n', start + 1) + 1;
        const auto end = content.find("-----END", start);
        if (end == std::string_view::npos) {
            throw Error(fmt::format("{}: armored key without an END line", origin));
        }
        std::string base64;
        for (const auto& line : split_lines(content.substr(start, end - start))) {
            if (line.starts_with('=')) {
                break; // the CRC-24 line; the key packets carry their own integrity
            }
            base64 += line;
        }
        std::unique_ptr<EVP_ENCODE_CTX, decltype(&EVP_ENCODE_CTX_free)> ctx(EVP_ENCODE_CTX_new(),
                                                                            &EVP_ENCODE_CTX_free);
        std::string decoded(base64.size(), '\0');
        int out_length = 0;
        int final_length = 0;
        EVP_DecodeInit(ctx.get());
        auto* out = reinterpret_cast<unsigned char*>(decoded.data());
        if (EVP_DecodeUpdate(ctx.get(), out, &out_length,
                             reinterpret_cast<const unsigned char*>(base64.data()),
                             static_cast<int>(base64.size())) < 0 ||
            EVP_DecodeFinal(ctx.get(), out + out_length, &final_length) < 0) {
            throw Error(fmt::format("{}: armored key is not valid base64", origin));
        }
        decoded.resize(static_cast<std::size_t>(out_length) +
                       static_cast<std::size_t>(final_length));
        binary += decoded;
        pos = end;
    }
    return binary;
}

SignedText verify_clearsigned(const std::filesystem::path& file,
                              const std::filesystem::path& keyring, std::string_view origin) {
    check_clearsigned_shape(core::read_file(file), origin);

    std::error_code ec;
    if (!std::filesystem::is_regular_file(keyring, ec)) {
        throw VerificationError(
            fmt::format("{}: keyring {} does not exist", origin, keyring.string()));
    }
    if (!core::program_exists("gpgv")) {
        throw Error("gpgv is needed to check repository signatures; install the gpgv package");
    }

    // gpgv reads binary keyrings only, and wants a home directory it may write to.
    core::remove_stale(std::filesystem::temp_directory_path(), "distill-gpgv-");
    core::TempDir home("distill-gpgv-");
    auto keyring_path = keyring;
    if (const auto key_content = core::read_file(keyring);
        key_content.find(k_key_begin) != std::string::npos) {
        keyring_path = home.path() / "keyring.gpg";
        core::write_file_atomic(keyring_path, dearmor_keyring(key_content, keyring.string()));
    }
    const auto output = home.path() / "signed.txt";
    const auto result = core::run_process(
        {"gpgv", "--homedir", home.path().string(), "--status-fd", "1", "--weak-digest", "SHA1",
         "--keyring", keyring_path.string(), "--output", output.string(), file.string()});

    std::vector<std::string> signers;
    std::vector<std::string> bad;
    std::vector<std::string> missing;
    std::vector<std::string> expired;
    bool weak = false;
    for (const auto& status : parse_status(result.out)) {
        if (status.keyword == "VALIDSIG" && status.args.size() >= 8) {
            if (weak_digest(status.args[7])) {
                weak = true;
                continue;
            }
            signers.push_back(status.args.size() >= 10 ? status.args[9] : status.args[0]);
        } else if (status.keyword == "BADSIG" && !status.args.empty()) {
            bad.push_back(status.args[0]);
        } else if (status.keyword == "NO_PUBKEY" && !status.args.empty()) {
            missing.push_back(status.args[0]);
        } else if ((status.keyword == "EXPKEYSIG" || status.keyword == "REVKEYSIG") &&
                   !status.args.empty()) {
            expired.push_back(status.args[0]);
        }
    }
    // gpgv exits non-zero when any signature cannot be checked, which is normal for an
    // archive signed by several keys; the status lines decide (as apt does).
    if (!bad.empty()) {
        throw VerificationError(
            fmt::format("{}: BAD signature by key {}: the file was changed after it was signed",
                        origin, fmt::join(bad, ", ")));
    }
    if (signers.empty()) {
        if (!expired.empty()) {
            throw VerificationError(fmt::format("{}: signed only by expired or revoked key {}",
                                                origin, fmt::join(expired, ", ")));
        }
        if (weak) {
            throw VerificationError(
                fmt::format("{}: signed only with a weak digest (SHA-1 or older)", origin));
        }
        if (!missing.empty()) {
            throw VerificationError(
                fmt::format("{}: signed by key {}, which keyring {} does not hold", origin,
                            fmt::join(missing, ", "), keyring.string()));
        }
        throw VerificationError(fmt::format("{}: no valid signature (gpgv: {})", origin,
                                            split_lines(result.err).empty()
                                                ? std::string("no output")
                                                : split_lines(result.err).front()));
    }
    return SignedText{core::read_file(output), std::move(signers)};
}

} // namespace distill::distro::debian
