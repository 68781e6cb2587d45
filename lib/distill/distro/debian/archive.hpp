#pragma once

#include <string>
#include <vector>

#include <distill/distro/debian/release.hpp>
#include <distill/sources/sources.hpp>

namespace distill::distro::debian {

/// A release file whose signature and validity have been checked.
struct VerifiedRelease {
    Release release;
    std::string url;    ///< where the InRelease came from
    std::string sha256; ///< of the InRelease as fetched (signature included)
    std::vector<std::string> signers;
};

/// Fetches dists/<suite>/InRelease (conditionally, when the cache holds an earlier copy),
/// verifies its signature against the repository's keyring, and checks that it is for the
/// requested suite, is within its Valid-Until, is not dated in the future and is not older
/// than the copy verified before (a replayed release). Only then is it cached.
[[nodiscard]] VerifiedRelease fetch_release(const sources::Repository& repository,
                                            sources::Context& context, sources::FetchStats& stats);

/// Fetches the Packages index of every component of `repository` for `arch` (plus
/// binary-all where the archive keeps one), verified against the release's SHA256 list.
[[nodiscard]] std::vector<sources::PackageIndex>
fetch_package_indexes(const sources::Repository& repository, const VerifiedRelease& release,
                      const std::string& arch, sources::Context& context,
                      sources::FetchStats& stats);

/// The Packages indexes for `arch` of the components the release lists and `repository` does
/// not use (contrib, non-free, ...), known by the hashes the verified release gives but not
/// downloaded: they are looked into only to explain a package the used ones lack.
[[nodiscard]] std::vector<sources::UnusedIndex>
unused_indexes(const sources::Repository& repository, const VerifiedRelease& release,
               const std::string& arch);

} // namespace distill::distro::debian
