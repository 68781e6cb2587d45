#include <unistd.h>

#include <fmt/format.h>

#include <distill/core/digest.hpp>
#include <distill/core/download.hpp>
#include <distill/core/error.hpp>

namespace distill::core {

BlobResult fetch_blob(HttpClient& http, const Cache& cache, const ExpectedBlob& blob) {
    if (cache.has_blob(blob.sha256)) {
        return BlobResult{cache.blob_path(blob.sha256), false, 0, {}};
    }
    if (blob.urls.empty()) {
        throw Error(fmt::format("no URL to download {} from", blob.sha256));
    }
    for (std::size_t i = 0; i < blob.urls.size(); ++i) {
        const auto& url = blob.urls[i];
        auto file = cache.new_blob_file();
        Hasher hasher;
        std::uint64_t size = 0;
        BodySink sink{
            [&] {
                // A retry starts the body again: drop what the broken attempt wrote.
                if (::ftruncate(file.fd(), 0) != 0 || ::lseek(file.fd(), 0, SEEK_SET) != 0) {
                    throw Error(fmt::format("{}: cannot truncate", file.temp_path().string()));
                }
                hasher = Hasher();
                size = 0;
            },
            [&](std::span<const std::byte> data) {
                size += data.size();
                if (blob.size && size > *blob.size) {
                    throw VerificationError(fmt::format(
                        "{}: larger than the {} bytes the index promises", url, *blob.size));
                }
                hasher.update(data);
                file.write(data);
            }};
        try {
            (void)http.get(HttpRequest{url, {}, {}}, sink);
        } catch (const NetworkError& error) {
            if (error.http_status() == 404 && i + 1 < blob.urls.size()) {
                continue;
            }
            throw;
        }
        if (blob.size && size != *blob.size) {
            throw VerificationError(
                fmt::format("{}: size mismatch: expected {} bytes, got {}", url, *blob.size, size));
        }
        const auto actual = hasher.hex_digest();
        if (actual != blob.sha256) {
            throw VerificationError(
                fmt::format("{}: sha256 mismatch: expected {}, got {}", url, blob.sha256, actual));
        }
        file.commit(cache.blob_path(blob.sha256));
        return BlobResult{cache.blob_path(blob.sha256), true, size, url};
    }
    throw Error("unreachable: every URL was tried");
}

} // namespace distill::core
