#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <distill/core/error.hpp>

// distill never runs maintainer scripts, so the two files ca-certificates' and
// ca-certificates-java's scripts would write (/etc/ssl/certs/ca-certificates.crt and
// /etc/ssl/certs/java/cacerts) are generated here, deterministically.
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
