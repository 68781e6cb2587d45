#include <array>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <distill/core/text.hpp>
#include <distill/distro/debian/releases.hpp>

namespace distill::distro::debian {
namespace {

using sources::Context;
using sources::FetchStats;
using sources::PackageIndex;
using sources::Provenance;
using sources::Repository;
using sources::SuiteOrigin;
using sources::UnusedIndex;

// Every codename Debian has used, and the aliases its archive keeps pointing at them. A name
// the mirror no longer carries (old releases move to the archive of old releases) is simply
// never confirmed.
constexpr std::array<std::string_view, 27> k_release_names{
    "buzz",         "rex",       "bo",       "hamm",    "slink",    "potato",       "woody",
    "sarge",        "etch",      "lenny",    "squeeze", "wheezy",   "jessie",       "stretch",
    "buster",       "bullseye",  "bookworm", "trixie",  "forky",    "duke",         "sid",
    "oldoldstable", "oldstable", "stable",   "testing", "unstable", "experimental",
};

// The suffixes Debian's archives add to a release to name its other suites.
constexpr std::array<std::string_view, 5> k_suite_suffixes{
    "-updates", "-security", "-backports", "-backports-sloppy", "-proposed-updates",
};

std::string dists_release(const Repository& repository, std::string_view suite) {
    return fmt::format("{}/dists/{}/InRelease", repository.url, suite);
}

bool served(const Repository& repository, std::string_view suite, core::HttpClient& http) {
    try {
        return http.head(core::HttpRequest{dists_release(repository, suite), {}, {}}).status < 300;
    } catch (const core::NetworkError&) {
        return false; // not confirmed: the hint is left without it
    }
}

/// The suffix that makes `suite` from `release` ("-updates"), or nullopt when it is not made
/// from it.
std::optional<std::string> suffix_of(const Repository& repository) {
    if (!repository.suite.starts_with(repository.release)) {
        return std::nullopt;
    }
    return repository.suite.substr(repository.release.size());
}

} // namespace

std::span<const std::string_view> release_names() {
    return k_release_names;
}

std::vector<std::string> similar_names(const Repository& repository, core::HttpClient& http,
                                       std::size_t limit) {
    // What the user wrote, the names it may be a typo of, and how each would be confirmed.
    std::string word;
    std::vector<std::string> candidates;
    std::string suffix;
    const auto made_from_release =
        repository.suite_origin == SuiteOrigin::release ? suffix_of(repository) : std::nullopt;
    if (made_from_release) {
        word = repository.release;
        suffix = *made_from_release;
        candidates.assign(k_release_names.begin(), k_release_names.end());
    } else {
        word = repository.suite;
        for (const auto release : k_release_names) {
            candidates.emplace_back(release);
            for (const auto known : k_suite_suffixes) {
                candidates.push_back(fmt::format("{}{}", release, known));
            }
        }
    }
    std::vector<std::string> confirmed;
    for (const auto& candidate : core::closest_matches(word, candidates, limit)) {
        if (served(repository, candidate + suffix, http)) {
            confirmed.push_back(candidate);
        }
    }
    return confirmed;
}

manifest::ManifestError missing_suite_error(const Repository& repository,
                                            const std::string& release_url,
                                            core::HttpClient& http) {
    const auto similar = similar_names(repository, http);
    const std::string not_found = fmt::format("{}: not found, HTTP 404", release_url);
    std::string hint = similar.empty()
                           ? std::string()
                           : fmt::format("did you mean {}?", fmt::join(similar, " or "));
    std::string message;
    if (repository.suite_origin == SuiteOrigin::suites) {
        message = fmt::format("suite `{}`: {} has no such suite ({})", repository.suite,
                              repository.url, not_found);
    } else if (repository.suite == repository.release) {
        message = fmt::format("release `{}`: {} has no such release ({})", repository.release,
                              repository.url, not_found);
    } else {
        message = fmt::format("release `{}`: {} has no suite {}, which distill reads for a "
                              "release unless a source names its `suites` ({})",
                              repository.release, repository.url, repository.suite, not_found);
        if (hint.empty()) {
            hint = fmt::format("name the suites the release has under sources, e.g. "
                               "`suites: [{}]`",
                               repository.release);
        }
    }
    return manifest::ManifestError(
        {manifest::Diagnostic{repository.suite_where, std::move(message), std::move(hint)}});
}

} // namespace distill::distro::debian
