#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <distill/core/cache.hpp>
#include <distill/core/http.hpp>
#include <distill/core/reporter.hpp>

namespace distill::fetch {

/// One package file to have in the cache.
struct Download {
    std::string label;             ///< shown in messages: "openjdk-17-jre-headless 17.0.13+11-2"
    std::vector<std::string> urls; ///< http, https or file; the next only after a 404 (or a
                                   ///< missing file://), each from its first attempt
    std::string sha256;            ///< from the verified index (lowercase hex)
    std::uint64_t size = 0;        ///< from the verified index
    /// For an index that gives no SHA-256 of the whole file (Alpine's names a package by the
    /// SHA-1 of its control part): `sha256` is empty, and `check` judges the complete
    /// download before it enters the cache, throwing a VerificationError naming the URL when
    /// it is not the file the index names. The blob is then kept under the SHA-256 it has
    /// (Result::sha256s). Such downloads are always transferred.
    std::function<void(const std::filesystem::path& file, const std::string& url)> check{};
};

/// How to fetch.
struct Options {
    int parallel = 8;          ///< transfers at once (less than 1 counts as 1)
    core::RetryPolicy retry{}; ///< for transient failures (connection errors, timeouts, 5xx, 429)
};

/// What fetching did.
struct Result {
    std::vector<std::filesystem::path> paths; ///< the verified cache blob of each download, in
                                              ///< input order (duplicates share one)
    std::vector<std::string> sha256s;         ///< the SHA-256 of each, in input order
    int downloaded = 0;                       ///< how many blobs needed a transfer
    int cached = 0;                           ///< how many were in the cache (no request made)
    std::uint64_t bytes = 0;                  ///< bytes of the verified blobs transferred
};

/// Makes sure every download is in the cache, verified against its size and SHA-256, fetching
/// the missing ones in parallel on core::HttpEngine; downloads naming the same
/// SHA-256 share one transfer, and a blob already in the cache is not requested. Transient
/// failures (connection errors, timeouts, 5xx, 429) are retried with exponential backoff, each
/// transfer on its own schedule while the others go on; a size or hash mismatch is a
/// VerificationError naming the label and URL (and the expected and actual hash) and is never
/// retried; a transfer that still fails after its retries is a core::NetworkError naming the
/// URL. On the first error the other transfers stop and their temporary files go: the cache
/// only ever holds verified blobs (those verified before the error stay). Reports
/// progress("downloading", bytes done, bytes total) and stops with "interrupted" once
/// cancellation is requested.
[[nodiscard]] Result fetch_all(const std::vector<Download>& downloads, const core::Cache& cache,
                               const Options& options, core::Reporter& reporter);

} // namespace distill::fetch
