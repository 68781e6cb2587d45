#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <distill/core/error.hpp>

// distill never runs maintainer scripts, so what ca-certificates' and ca-certificates-java's
// scripts would write (/etc/ssl/certs/ca-certificates.crt, the links update-ca-certificates and
// `openssl rehash` make in /etc/ssl/certs, and /etc/ssl/certs/java/cacerts) is generated here,
// deterministically.
namespace distill::assemble {

/// One CA certificate to trust.
struct Certificate {
    std::string name; ///< where it came from, e.g. "mozilla/ISRG_Root_X1.crt"; used for the alias
    std::string der;  ///< the certificate, DER-encoded
};

/// Parses every "-----BEGIN CERTIFICATE-----" block of a PEM text (a single .crt file or a bundle)
/// with OpenSSL. Text outside the blocks is ignored (bundles carry comments). A block that does not
/// parse is an Error naming `origin` and the block's 1-based line number. `name` of each result is
/// `origin` (suffixed "#2", "#3"... when the text holds several certificates).
[[nodiscard]] std::vector<Certificate> read_pem_certificates(std::string_view text,
                                                             std::string_view origin);

/// The CA bundle as update-ca-certificates writes it: every certificate PEM-encoded (64-column
/// base64 lines), concatenated in the given order, each block ending with a newline.
[[nodiscard]] std::string pem_bundle(const std::vector<Certificate>& certificates);

/// OpenSSL's hash of a certificate's subject name (what X509_subject_name_hash computes): the
/// number `openssl x509 -subject_hash` prints and `openssl rehash` names its links after.
[[nodiscard]] std::uint32_t subject_hash(const Certificate& certificate);

/// A file of certificates in the image that update-ca-certificates would take.
struct CertificateFile {
    std::string path;                      ///< absolute, "/usr/share/ca-certificates/mozilla/X.crt"
    std::vector<Certificate> certificates; ///< what it holds
};

/// A symbolic link to make in a directory.
struct Link {
    std::string name;   ///< the link's name in the directory, "ISRG_Root_X1.pem"
    std::string target; ///< what it points to, as written into the link

    friend bool operator==(const Link&, const Link&) = default;
};

/// The name update-ca-certificates gives a certificate file's link in /etc/ssl/certs: the
/// file's basename without ".crt", with ' ' and ',' made '_' and '(' and ')' made '=', and
/// ".pem" appended ("/usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt" gives
/// "ISRG_Root_X1.pem").
[[nodiscard]] std::string certificate_link_name(std::string_view path);

/// What update-ca-certificates and then `openssl rehash` leave in /etc/ssl/certs for these
/// files, sorted by name: "<name>.pem" -> the file's path (certificate_link_name; a later file
/// with the same link name takes the link, as `ln -sf` does), and for each link to a file
/// holding exactly one certificate (rehash skips the others) "<hash>.<n>" -> "<name>.pem", with
/// the subject hash as eight lowercase hex digits. As rehash does, the links are taken in
/// bytewise order of their names, a certificate already linked is not linked again, and the
/// certificates that share a hash are numbered 0, 1, 2... in that order.
[[nodiscard]] std::vector<Link> certificate_directory(const std::vector<CertificateFile>& files);

/// A Java KeyStore (JKS, version 2) holding one trusted-certificate entry per certificate, as the
/// JVM reads for its default truststore. Deterministic: the same certificates and epoch give the
/// same bytes. Aliases are derived from `name` (lowercased basename without extension, prefixed
/// "debian:" like Debian's own truststore, e.g. "debian:isrg_root_x1.pem"), made unique with a
/// numeric suffix, and entries are written sorted by alias. Each entry's creation date is
/// `epoch_seconds` (in milliseconds, as JKS stores it). The trailing integrity digest is the SHA-1
/// keyed with `password` as the JDK's JKS implementation checks it.
[[nodiscard]] std::string java_keystore(const std::vector<Certificate>& certificates,
                                        std::int64_t epoch_seconds,
                                        std::string_view password = "changeit");

} // namespace distill::assemble
