#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <distill/core/reporter.hpp>
#include <distill/manifest/manifest.hpp>
#include <distill/unpack/tree.hpp>

// What maintainer scripts would have done to an installed system, done declaratively on the
// tree: distill never runs a package's scripts.
namespace distill::assemble {

/// What assembling added, for the build report.
struct Summary {
    std::vector<std::string> accounts;     ///< account names in /etc/passwd
    std::size_t ca_certificates = 0;       ///< certificates in the CA bundle
    std::size_t certificate_links = 0;     ///< /etc/ssl/certs/<name>.pem links to certificates
    std::size_t hash_links = 0;            ///< /etc/ssl/certs/<hash>.<n> links, as rehash makes
    bool java_truststore = false;          ///< /etc/ssl/certs/java/cacerts written
    std::vector<std::string> alternatives; ///< "/usr/bin/java -> /usr/lib/jvm/.../bin/java"
    std::size_t database_packages = 0;     ///< packages in the image's package database
};

/// The accounts of an image: root, nonroot and nobody, replaced or joined by the manifest's
/// (after manifest::with_defaults), in uid order.
[[nodiscard]] std::vector<manifest::Account> accounts_for(const manifest::Manifest& manifest);

/// "uid:gid" for the config's `user` (an account name, a uid, or uid:gid).
[[nodiscard]] std::string resolve_user(const manifest::Manifest& manifest);

/// Runs every step on the tree, in order: accounts (/etc/passwd, /etc/group, homes), system
/// files (/etc/os-release when the packages ship none, /tmp, /etc/nsswitch.conf,
/// /etc/localtime when tzdata is in), the CA bundle with the links update-ca-certificates,
/// `openssl rehash` and the distro's openssl package would make (and the manifest's
/// `certificates` as files under /usr/local/share/ca-certificates), the Java truststore, the
/// distro's alternatives links, the manifest's `files`, and last the distro's package database,
/// which lists exactly what the image holds (distro::Distro). `manifest` is after
/// manifest::with_defaults; `epoch` dates what needs a date.
Summary assemble(unpack::Tree& tree, const manifest::Manifest& manifest, std::int64_t epoch,
                 core::Reporter& reporter);

} // namespace distill::assemble
