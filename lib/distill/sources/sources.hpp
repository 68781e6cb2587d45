#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <distill/core/cache.hpp>
#include <distill/core/download.hpp>
#include <distill/core/http.hpp>
#include <distill/core/reporter.hpp>
#include <distill/manifest/manifest.hpp>

namespace distill::sources {

/// Where the name of a repository's suite comes from.
enum class SuiteOrigin {
    release, ///< a default suite made from the manifest's `release` (RELEASE-updates)
    suites,  ///< an entry of a source's `suites`
};

/// One suite of a package archive, with the host's defaults filled in.
struct Repository {
    manifest::Distro distro = manifest::Distro::debian;
    std::string url;   ///< base URL, no trailing slash
    std::string suite; ///< e.g. RELEASE-security
    std::vector<std::string> components;
    std::filesystem::path keyring;
    manifest::Location where; ///< the manifest entry it came from (unknown for defaults)
    SuiteOrigin suite_origin = SuiteOrigin::release;
    /// Where the user can fix the suite's name: the `release` value, or the `suites` entry.
    manifest::Location suite_where;
    /// The manifest's release (the suite is this plus a suffix when made from it).
    std::string release;
    std::string tag; ///< the source's `tag` (Alpine's pinned repositories); empty: none
};

/// Who vouched for a package index: the signed release file and its signers.
struct Provenance {
    std::string release_url;          ///< the signed release file the index hash came from
    std::string release_sha256;       ///< SHA-256 of that release file as fetched
    std::vector<std::string> signers; ///< fingerprints of the keys whose signatures verified
    std::filesystem::path keyring;    ///< the keyring they were checked against
};

/// A package index that passed verification and sits in the cache.
struct PackageIndex {
    manifest::Distro distro = manifest::Distro::debian;
    std::string repo_url; ///< package file names in the index are relative to this
    std::string suite;
    std::string component;
    std::string arch;           ///< the index's architecture ("all" for binary-all)
    std::string url;            ///< where the index was (or would have been) downloaded from
    std::filesystem::path path; ///< the verified file in the cache (compressed as served)
    std::string sha256;         ///< of the file at `path`
    Provenance provenance;
    std::string tag; ///< its repository's tag (Repository::tag)
};

/// An index the signed release vouches for that the manifest does not use (another component
/// of one of its suites): known by its hash, downloaded only when it is needed.
struct UnusedIndex {
    PackageIndex index;      ///< `path` is empty until fetch_unused() got it
    core::ExpectedBlob blob; ///< where to get it and what it must hash to
    Repository repository;   ///< the suite it belongs to, as the manifest uses it
};

/// What fetching indexes cost, so that callers (and tests) can see a warm run download nothing.
struct FetchStats {
    int releases_checked = 0;      ///< release files requested (conditionally when cached)
    int releases_not_modified = 0; ///< answered 304 Not Modified
    int releases_pinned = 0;       ///< the copy a lock names, taken from the cache unasked
    int indexes_downloaded = 0;
    int indexes_cached = 0; ///< taken from the cache by hash, without a request
    std::uint64_t bytes_downloaded = 0;
};

/// The verified indexes for one architecture.
struct IndexSet {
    std::string arch;
    std::vector<PackageIndex> indexes;
    FetchStats stats;
    /// The same suites' other components, not downloaded (see fetch_unused()).
    std::vector<UnusedIndex> unused;
};

/// Release file URL -> the SHA-256 a lock recorded for it.
using PinnedReleases = std::map<std::string, std::string>;

/// What the sources stage works with.
struct Context {
    const core::Cache& cache;
    core::HttpClient& http;
    core::Reporter& reporter;
    /// For a build from a lock: the release files it was resolved from. Where the cache holds
    /// one of them, that copy is verified (signature, suite, and its own hash) and used without
    /// asking the mirror; otherwise the current one is fetched as always. Not owned; may be null.
    const PinnedReleases* pinned = nullptr;
    /// The time release files are judged against (Valid-Until, Date); now, unless a test
    /// says otherwise.
    std::chrono::sys_seconds now =
        std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
};

/// A cached copy of a release file that a lock names (Context::pinned).
struct PinnedCopy {
    std::filesystem::path path;
    std::string sha256;
};

/// The cached copy of `url` that `context.pinned` names, once its content was checked against
/// that SHA-256 (the cache is outside data too); nullopt when no lock names the URL, the cache
/// lacks the copy, or it is damaged (with a warning: the mirror is then asked).
[[nodiscard]] std::optional<PinnedCopy> pinned_copy(Context& context, const std::string& url);

/// Downloads (or takes from the cache) the unused indexes, each verified against the hash its
/// signed release gives, exactly like the used ones. Fills in their `path`.
void fetch_unused(std::vector<UnusedIndex>& unused, Context& context, FetchStats& stats);

/// The manifest's architectures, or the host's when it names none.
[[nodiscard]] std::vector<std::string> archs_for(const manifest::Manifest& manifest);

} // namespace distill::sources
