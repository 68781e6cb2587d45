#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>

#include <distill/core/cache.hpp>
#include <distill/core/http.hpp>
#include <distill/core/reporter.hpp>

namespace distill::pipeline {

/// Parallel downloads when --jobs does not say.
inline constexpr int k_default_transfers = 8;

/// What one run of distill shares between its steps, made once by the command line: the
/// cache, the HTTP client, the reporter, how many threads and transfers, and the epoch. The
/// library reads nothing of this from the environment itself.
class Session {
public:
    /// What the command line says about the run.
    struct Options {
        std::filesystem::path cache_dir;   ///< empty: core::Cache::default_root()
        int jobs = 0;                      ///< --jobs; 0: not given
        std::optional<std::int64_t> epoch; ///< SOURCE_DATE_EPOCH, when set
    };

    /// Opens (creates) the cache. Threads: --jobs, else one per processor; parallel downloads:
    /// --jobs, else k_default_transfers.
    Session(const Options& options, core::Reporter& reporter);

    [[nodiscard]] const core::Cache& cache() const noexcept { return m_cache; }
    /// The client for single requests (release files, indexes); not shared between threads.
    [[nodiscard]] core::HttpClient& http() noexcept { return m_http; }
    [[nodiscard]] core::Reporter& reporter() const noexcept { return m_reporter; }
    /// Threads for unpacking and compressing (at least 1).
    [[nodiscard]] int jobs() const noexcept { return m_jobs; }
    /// Downloads at once (at least 1).
    [[nodiscard]] int transfers() const noexcept { return m_transfers; }
    /// The time stamp of every file and of the image config when the command line gives one;
    /// nothing: the newest package's build date.
    [[nodiscard]] std::optional<std::int64_t> epoch() const noexcept { return m_epoch; }

private:
    core::Cache m_cache;
    core::HttpClient m_http;
    core::Reporter& m_reporter;
    int m_jobs;
    int m_transfers;
    std::optional<std::int64_t> m_epoch;
};

} // namespace distill::pipeline
