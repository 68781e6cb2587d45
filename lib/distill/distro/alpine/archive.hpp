#pragma once

#include <string>

#include <distill/sources/sources.hpp>

namespace distill::distro::alpine {

/// The URL of the directory holding `component`'s index and packages for `arch`:
/// MIRROR/RELEASE/COMPONENT/ARCH (apk's repository layout).
[[nodiscard]] std::string repository_url(const sources::Repository& repository,
                                         const std::string& component, const std::string& arch);

/// Downloads (conditionally, when the cache holds an earlier copy) or, for a build from a lock,
/// takes the copy the lock names from the cache, and verifies the signature of one
/// APKINDEX.tar.gz with the repository's keys. The index is its own release file: it is
/// signed, and the package files are named by the checksums it holds. A mirror without the
/// index is a manifest error at the release (or the component).
[[nodiscard]] sources::PackageIndex fetch_index(const sources::Repository& repository,
                                                const std::string& component,
                                                const std::string& arch, sources::Context& context,
                                                sources::FetchStats& stats);

} // namespace distill::distro::alpine
