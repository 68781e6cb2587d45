#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <distill/core/cache.hpp>
#include <distill/core/digest.hpp>
#include <distill/core/http.hpp>

namespace distill::core {

/// A file known by its SHA-256 before it is downloaded (a package index, a package file).
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

/// A download on its way into the cache: the body goes to a temporary blob file while its
/// SHA-256 and size are computed; a retry starts both afresh. Nothing is in the cache until
/// commit() names the file by its (verified) hash.
class BlobWriter {
public:
    explicit BlobWriter(const Cache& cache);

    /// The sink to give HttpClient::get.
    [[nodiscard]] const BodySink& sink() const noexcept { return m_sink; }
    /// The SHA-256 of what was written; call once, after the transfer.
    [[nodiscard]] std::string sha256() { return m_hasher.hex_digest(); }
    [[nodiscard]] std::uint64_t size() const noexcept { return m_size; }
    /// The file written so far (to verify before committing).
    [[nodiscard]] const std::filesystem::path& path() const noexcept { return m_file.temp_path(); }
    /// Moves the file into the cache under `sha256`, which the caller has verified.
    void commit(const std::string& sha256);

private:
    const Cache& m_cache;
    AtomicFile m_file;
    Hasher m_hasher;
    std::uint64_t m_size = 0;
    BodySink m_sink;
};

/// Returns the cached blob with this hash, or downloads it, checking size and SHA-256 while
/// streaming, and stores it in the cache only if both match. A mismatch is a
/// VerificationError naming the URL, the expected and the actual hash; it is not retried.
[[nodiscard]] BlobResult fetch_blob(HttpClient& http, const Cache& cache, const ExpectedBlob& blob);

} // namespace distill::core
