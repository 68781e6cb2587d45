#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <distill/core/cache.hpp>
#include <distill/core/http.hpp>

namespace distill::core {

/// A file known by its SHA-256 before it is downloaded (a Packages index, a .deb).
struct ExpectedBlob {
    std::vector<std::string> urls;     ///< tried in order; the next one only after a 404
    std::string sha256;                ///< what the content must hash to
    std::optional<std::uint64_t> size; ///< what its size must be, when known
};

/// Where a blob came from.
struct BlobResult {
    std::filesystem::path path; ///< the verified file in the cache
    bool downloaded = false;    ///< false: it was in the cache already, no request was made
    std::uint64_t bytes = 0;    ///< bytes downloaded
    std::string url;            ///< the URL that served it (empty when cached)
};

/// Returns the cached blob with this hash, or downloads it, checking size and SHA-256 while
/// streaming, and stores it in the cache only if both match. A mismatch is a
/// VerificationError naming the URL, the expected and the actual hash; it is not retried.
[[nodiscard]] BlobResult fetch_blob(HttpClient& http, const Cache& cache, const ExpectedBlob& blob);

} // namespace distill::core
