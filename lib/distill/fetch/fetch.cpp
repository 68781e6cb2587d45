#include <map>
#include <memory>

#include <fmt/format.h>

#include <distill/core/digest.hpp>
#include <distill/core/download.hpp>
#include <distill/fetch/fetch.hpp>

namespace distill::fetch {
namespace {

/// One download on its way: which of its URLs, and the blob file it streams into.
struct Pending {
    const Download* download = nullptr;
    std::size_t index = 0; ///< of the download in fetch_all's input
    std::size_t url = 0;   ///< index into download->urls
    /// Opened with the first bytes, so that only the transfers under way hold a file.
    std::unique_ptr<core::BlobWriter> writer;
    std::uint64_t received = 0;
    bool finished = false;

    [[nodiscard]] const std::string& current_url() const { return download->urls.at(url); }
};

/// The package-specific side of the downloads: labels, verification into the cache, the
/// fallback over several URLs, progress. The transfers themselves are the HTTP engine's.
class Fetcher {
public:
    Fetcher(const core::Cache& cache, const Options& options, core::Reporter& reporter)
        : m_cache(cache)
        , m_reporter(reporter)
        , m_engine(core::HttpOptions{
              .retry = options.retry, .parallel = options.parallel, .reporter = &reporter}) {}

    void run(const std::vector<std::pair<std::size_t, const Download*>>& todo, Result& result) {
        for (const auto& [index, download] : todo) {
            auto& pending = *m_pending.emplace_back(std::make_unique<Pending>());
            pending.download = download;
            pending.index = index;
            m_total += download->size;
            request(pending, result);
        }
        m_engine.run(
            [&] { m_reporter.progress("downloading", m_done_bytes + running_bytes(), m_total); });
    }

private:
    [[nodiscard]] std::uint64_t running_bytes() const {
        std::uint64_t bytes = 0;
        for (const auto& pending : m_pending) {
            bytes += pending->finished ? 0 : pending->received;
        }
        return bytes;
    }

    core::BlobWriter& writer_of(Pending& pending) {
        if (!pending.writer) {
            pending.writer = std::make_unique<core::BlobWriter>(m_cache);
        }
        return *pending.writer;
    }

    void restart(Pending& pending) {
        if (pending.writer) {
            pending.writer->sink().restart(); // the body starts again
        }
        pending.received = 0;
    }

    void request(Pending& pending, Result& result) {
        core::BodySink sink{[this, &pending] { restart(pending); },
                            [this, &pending](std::span<const std::byte> data) {
                                auto& writer = writer_of(pending);
                                writer.sink().data(data);
                                pending.received += data.size();
                                if (writer.size() > pending.download->size) {
                                    throw VerificationError(fmt::format(
                                        "{}: {}: larger than the {} bytes the verified index "
                                        "promises",
                                        pending.download->label, pending.current_url(),
                                        pending.download->size));
                                }
                            }};
        m_engine.add(core::HttpTransfer{core::HttpRequest{pending.current_url(), {}, {}},
                                        std::move(sink),
                                        [this, &pending, &result](core::HttpResult& outcome) {
                                            settle(pending, outcome, result);
                                        }});
    }

    void settle(Pending& pending, const core::HttpResult& outcome, Result& result) {
        const Download& download = *pending.download;
        const std::string& url = pending.current_url();
        if (outcome.ok()) {
            core::BlobWriter& writer = writer_of(pending);
            if (writer.size() != download.size) {
                throw VerificationError(
                    fmt::format("{}: {}: size mismatch: expected {} bytes, got {}", download.label,
                                url, download.size, writer.size()));
            }
            const auto actual = writer.sha256();
            if (download.check) {
                download.check(writer.path(), url);
            } else if (actual != download.sha256) {
                throw VerificationError(fmt::format("{}: {}: sha256 mismatch: expected {}, got {}",
                                                    download.label, url, download.sha256, actual));
            }
            writer.commit(actual);
            result.paths[pending.index] = m_cache.blob_path(actual);
            result.sha256s[pending.index] = actual;
            ++result.downloaded;
            result.bytes += writer.size();
            m_done_bytes += writer.size();
            pending.finished = true;
            pending.writer.reset();
            return;
        }
        if (outcome.not_found && pending.url + 1 < download.urls.size()) {
            ++pending.url; // the next mirror, from the first attempt
            restart(pending);
            request(pending, result);
            return;
        }
        try {
            std::rethrow_exception(outcome.error);
        } catch (const core::NetworkError& error) {
            throw core::NetworkError(fmt::format("{}: {}", download.label, error.what()),
                                     error.http_status());
        }
    }

    const core::Cache& m_cache;
    core::Reporter& m_reporter;
    /// Before the engine, so that the engine (and the transfers that point here) goes first.
    std::vector<std::unique_ptr<Pending>> m_pending;
    core::HttpEngine m_engine;
    std::uint64_t m_total = 0;
    std::uint64_t m_done_bytes = 0;
};

} // namespace

Result fetch_all(const std::vector<Download>& downloads, const core::Cache& cache,
                 const Options& options, core::Reporter& reporter) {
    Result result;
    result.paths.resize(downloads.size());
    result.sha256s.resize(downloads.size());
    std::vector<std::pair<std::size_t, const Download*>> todo;
    std::map<std::string, std::size_t> first; // one transfer per blob, however many name it
    std::vector<std::pair<std::size_t, std::size_t>> duplicates; // (download, first of its blob)
    for (std::size_t i = 0; i < downloads.size(); ++i) {
        const auto& download = downloads[i];
        // The hash names the cache file: anything but a SHA-256 in hex is refused before it
        // can become a path.
        if (!download.check && !core::is_sha256_hex(download.sha256)) {
            throw Error(fmt::format("{}: `{}` is not a SHA-256", download.label, download.sha256));
        }
        const bool cached = !download.check && cache.has_blob(download.sha256);
        if (download.urls.empty() && !cached) {
            throw Error(fmt::format("{}: no URL to download it from", download.label));
        }
        // Checked downloads are known by where they come from until they are in.
        const std::string key = download.check ? "url " + download.urls.front() : download.sha256;
        if (const auto [it, inserted] = first.emplace(key, i); !inserted) {
            duplicates.emplace_back(i, it->second);
            continue;
        }
        if (!download.check) {
            result.paths[i] = cache.blob_path(download.sha256);
            result.sha256s[i] = download.sha256;
        }
        if (cached) {
            ++result.cached;
            continue;
        }
        todo.emplace_back(i, &download);
    }
    if (!todo.empty()) {
        Fetcher(cache, options, reporter).run(todo, result);
    }
    for (const auto& [i, of] : duplicates) {
        result.paths[i] = result.paths[of];
        result.sha256s[i] = result.sha256s[of];
    }
    return result;
}

} // namespace distill::fetch
