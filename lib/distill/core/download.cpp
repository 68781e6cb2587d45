#include <unistd.h>

#include <fmt/format.h>

#include <distill/core/digest.hpp>
#include <distill/core/download.hpp>
#include <distill/core/error.hpp>

namespace distill::core {

BlobWriter::BlobWriter(const Cache& cache)
    : m_cache(cache)
    , m_file(cache.new_blob_file()) {
    m_sink.restart = [this] {
        // A retry starts the body again: drop what the broken attempt wrote.
        if (::ftruncate(m_file.fd(), 0) != 0 || ::lseek(m_file.fd(), 0, SEEK_SET) != 0) {
            throw Error(fmt::format("{}: cannot truncate", m_file.temp_path().string()));
        }
        m_hasher = Hasher();
        m_size = 0;
    };
    m_sink.data = [this](std::span<const std::byte> data) {
        m_size += data.size();
        m_hasher.update(data);
        m_file.write(data);
    };
}

void BlobWriter::commit(const std::string& sha256) {
    m_file.commit(m_cache.blob_path(sha256));
}

BlobResult fetch_blob(HttpClient& http, const Cache& cache, const ExpectedBlob& blob) {
    if (cache.has_blob(blob.sha256)) {
        return BlobResult{cache.blob_path(blob.sha256), false, 0, {}};
    }
    if (blob.urls.empty()) {
        throw Error(fmt::format("no URL to download {} from", blob.sha256));
    }
    for (std::size_t i = 0; i < blob.urls.size(); ++i) {
        const auto& url = blob.urls[i];
        BlobWriter writer(cache);
        BodySink sink{writer.sink().restart, [&](std::span<const std::byte> data) {
                          writer.sink().data(data);
                          if (blob.size && writer.size() > *blob.size) {
                              throw VerificationError(
                                  fmt::format("{}: larger than the {} bytes the index promises",
                                              url, *blob.size));
                          }
                      }};
        try {
            (void)http.get(HttpRequest{url, {}, {}}, sink);
        } catch (const NetworkError& error) {
            if (error.http_status() == 404 && i + 1 < blob.urls.size()) {
                continue;
            }
            throw;
        }
        if (blob.size && writer.size() != *blob.size) {
            throw VerificationError(fmt::format("{}: size mismatch: expected {} bytes, got {}", url,
                                                *blob.size, writer.size()));
        }
        const auto actual = writer.sha256();
        if (actual != blob.sha256) {
            throw VerificationError(
                fmt::format("{}: sha256 mismatch: expected {}, got {}", url, blob.sha256, actual));
        }
        writer.commit(blob.sha256);
        return BlobResult{cache.blob_path(blob.sha256), true, writer.size(), url};
    }
    throw Error("unreachable: every URL was tried");
}

} // namespace distill::core
