#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <distill/core/http.hpp>
#include <distill/manifest/manifest.hpp>
#include <distill/sources/sources.hpp>

namespace distill::distro::debian {

/// Debian's release codenames, oldest first, then the archive's aliases for them (stable,
/// testing, ...): the names a manifest's `release` can take.
[[nodiscard]] std::span<const std::string_view> release_names();

/// Names close to the one the mirror does not have, that it does have, best first (at most
/// `limit`). For a suite made from the manifest's release (bookwrom-updates) they are releases
/// (bookworm), each confirmed by the mirror serving that release's suite of the same kind; for
/// a suite the manifest names they are suites, each confirmed by the mirror serving it. Only
/// the release file's headers are asked for, never its body; a candidate the mirror does not
/// confirm, for whatever reason, is left out.
[[nodiscard]] std::vector<std::string> similar_names(const sources::Repository& repository,
                                                     core::HttpClient& http, std::size_t limit = 3);

/// The error for a suite whose release file the mirror answered 404 for: a manifest error at
/// the `release` value (or the `suites` entry) that named it, with the names the mirror does
/// have as a hint.
[[nodiscard]] manifest::ManifestError missing_suite_error(const sources::Repository& repository,
                                                          const std::string& release_url,
                                                          core::HttpClient& http);

} // namespace distill::distro::debian
