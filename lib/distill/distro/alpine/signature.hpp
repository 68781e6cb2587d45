#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

// apk v2 signatures: a signed file (an APKINDEX.tar.gz, an .apk) is concatenated gzip members
// whose first holds a tar of `.SIGN.<type>.<key name>` entries, each an RSA PKCS#1 v1.5
// signature over the compressed bytes of the second member: `RSA` over their SHA-1, `RSA256`
// over their SHA-256, `RSA512` over their SHA-512.
namespace distill::distro::alpine {

/// The public keys an apk trusts, by file name (the name a signature entry gives), as apk
/// keeps them in /etc/apk/keys.
struct Keyring {
    std::map<std::string, std::string> keys; ///< key file name -> its PEM public key
    std::filesystem::path source;            ///< where the keys were loaded from, for messages
};

/// The keys of `path`: one key file (e.g. `alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub`),
/// or a directory whose regular files named `*.pub` are keys (others are ignored). Each must
/// be a PEM public key of at most 64 KiB, and a directory may hold at most 1024 of them. An
/// Error naming the path when it cannot be read, holds no key or a file that is not one.
[[nodiscard]] Keyring load_keyring(const std::filesystem::path& path);

/// Who signed a file.
struct Signer {
    std::string key_name;  ///< the key file's name
    std::string algorithm; ///< "RSA" (SHA-1), "RSA256" (SHA-256) or "RSA512" (SHA-512)
};

/// Checks the signature of an apk v2 signed file, as apk does: of the signature entries in
/// its first gzip member, the first whose key is in `keys` decides, over the compressed bytes
/// of the second member (members past the second are not looked at). Returns that
/// signature's key and algorithm. A core VerificationError naming `origin` when the first
/// member holds no signature entry (or anything else), no signature is by a key of `keys`
/// (naming the keys needed and the keyring), the deciding signature does not verify, or the
/// data is not gzip.
[[nodiscard]] Signer verify_signed_file(std::string_view bytes, const Keyring& keys,
                                        std::string_view origin);

/// apk's checksum of a package (the index's `C:` field): "Q1" followed by the base64 of the
/// raw SHA-1 digest `sha1_raw_digest` (20 bytes) of its control member's compressed bytes.
[[nodiscard]] std::string apk_checksum(std::string_view sha1_raw_digest);

} // namespace distill::distro::alpine
