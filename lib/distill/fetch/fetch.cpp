#include <algorithm>
#include <array>
#include <chrono>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <set>

#include <curl/curl.h>
#include <fmt/format.h>

#include <distill/core/cancel.hpp>
#include <distill/core/curl_setup.hpp>
#include <distill/core/digest.hpp>
#include <distill/core/download.hpp>
#include <distill/fetch/fetch.hpp>

namespace distill::fetch {
namespace {

using Clock = std::chrono::steady_clock;

/// One download on its way: which URL, which attempt, and the blob file it streams into.
struct Transfer {
    const Download* download = nullptr;
    std::size_t url = 0; ///< index into download->urls
    int attempt = 0;
    Clock::time_point not_before{};
    std::unique_ptr<core::BlobWriter> writer;
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> easy{nullptr, &curl_easy_cleanup};
    std::array<char, CURL_ERROR_SIZE> error{};
    std::exception_ptr sink_failure;
    std::uint64_t received = 0;

    [[nodiscard]] const std::string& current_url() const { return download->urls.at(url); }

    /// Whether the answer so far is the file (file:// answers 0).
    [[nodiscard]] bool answered_ok() const {
        long status = 0;
        curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &status);
        return status == 0 || (status >= 200 && status < 300);
    }
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* transfer = static_cast<Transfer*>(user);
    const std::size_t bytes = size * count;
    if (!transfer->answered_ok()) {
        // The page of a 404 or a 500 is not the file: hashing it, or counting it against the
        // promised size, would turn a retry or a fallback into a verification error.
        return bytes;
    }
    try {
        transfer->writer->sink().data(std::as_bytes(std::span(data, bytes)));
        transfer->received += bytes;
        if (transfer->writer->size() > transfer->download->size) {
            throw VerificationError(fmt::format(
                "{}: {}: larger than the {} bytes the verified index promises",
                transfer->download->label, transfer->current_url(), transfer->download->size));
        }
    } catch (...) {
        transfer->sink_failure = std::current_exception();
        return 0; // curl aborts the transfer with CURLE_WRITE_ERROR
    }
    return bytes;
}

class Fetcher {
public:
    Fetcher(const core::Cache& cache, const Options& options, core::Reporter& reporter)
        : m_cache(cache)
        , m_options(options)
        , m_reporter(reporter)
        , m_multi(curl_multi_init(), &curl_multi_cleanup) {
        if (!m_multi) {
            throw Error("cannot initialise libcurl");
        }
    }

    ~Fetcher() {
        // Stop what is still running; the writers' temporary files go with them.
        for (auto& [easy, transfer] : m_running) {
            curl_multi_remove_handle(m_multi.get(), easy);
        }
    }

    Fetcher(const Fetcher&) = delete;
    Fetcher& operator=(const Fetcher&) = delete;

    void run(std::vector<const Download*> todo, Result& result) {
        for (const auto* download : todo) {
            auto transfer = std::make_unique<Transfer>();
            transfer->download = download;
            m_total += download->size;
            m_waiting.push_back(std::move(transfer));
        }
        while (!m_waiting.empty() || !m_running.empty()) {
            core::throw_if_cancelled();
            start_ready();
            int running = 0;
            check(curl_multi_perform(m_multi.get(), &running));
            finish_done(result);
            if (!m_running.empty() || !m_waiting.empty()) {
                check(curl_multi_poll(m_multi.get(), nullptr, 0, poll_timeout_ms(), nullptr));
            }
            m_reporter.progress("downloading", m_done_bytes + running_bytes(), m_total);
        }
    }

private:
    static void check(CURLMcode code) {
        if (code != CURLM_OK) {
            throw Error(fmt::format("libcurl: {}", curl_multi_strerror(code)));
        }
    }

    [[nodiscard]] std::uint64_t running_bytes() const {
        std::uint64_t bytes = 0;
        for (const auto& [easy, transfer] : m_running) {
            bytes += transfer->received;
        }
        return bytes;
    }

    /// Transfers at once; at least one, or nothing would ever start.
    [[nodiscard]] std::size_t slots() const {
        return static_cast<std::size_t>(std::max(1, m_options.parallel));
    }

    /// How long to wait for the network: at most 100 ms, so that cancellation is noticed, and
    /// no longer than until a waiting transfer is due, if there is a free slot to start it in.
    /// Without a free slot only a transfer ending can change anything, and curl wakes the poll
    /// for that.
    [[nodiscard]] int poll_timeout_ms() const {
        auto wait = std::chrono::milliseconds(100);
        if (m_running.size() >= slots()) {
            return static_cast<int>(wait.count());
        }
        const auto now = Clock::now();
        for (const auto& transfer : m_waiting) {
            const auto due =
                std::chrono::duration_cast<std::chrono::milliseconds>(transfer->not_before - now);
            wait = std::max(std::chrono::milliseconds(0), std::min(wait, due));
        }
        return static_cast<int>(wait.count());
    }

    void start_ready() {
        const auto now = Clock::now();
        for (auto it = m_waiting.begin(); it != m_waiting.end() && m_running.size() < slots();) {
            if ((*it)->not_before > now) {
                ++it;
                continue;
            }
            start(std::move(*it));
            it = m_waiting.erase(it);
        }
    }

    void start(std::unique_ptr<Transfer> transfer) {
        ++transfer->attempt;
        transfer->received = 0;
        transfer->error.fill('\0');
        transfer->sink_failure = nullptr;
        if (!transfer->writer) {
            transfer->writer = std::make_unique<core::BlobWriter>(m_cache);
        } else {
            transfer->writer->sink().restart(); // a retry starts the body again
        }
        transfer->easy.reset(curl_easy_init());
        CURL* easy = transfer->easy.get();
        if (easy == nullptr) {
            throw Error("cannot initialise libcurl");
        }
        core::detail::set_common_options(easy, transfer->current_url(), transfer->error.data());
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &on_body);
        curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer.get());
        check(curl_multi_add_handle(m_multi.get(), easy));
        m_running.emplace(easy, std::move(transfer));
    }

    void finish_done(Result& result) {
        int left = 0;
        while (CURLMsg* message = curl_multi_info_read(m_multi.get(), &left)) {
            if (message->msg != CURLMSG_DONE) {
                continue;
            }
            CURL* easy = message->easy_handle;
            const CURLcode code = message->data.result;
            curl_multi_remove_handle(m_multi.get(), easy);
            auto found = m_running.find(easy);
            auto transfer = std::move(found->second);
            m_running.erase(found);
            settle(std::move(transfer), code, result);
        }
    }

    void settle(std::unique_ptr<Transfer> transfer, CURLcode code, Result& result) {
        if (transfer->sink_failure) {
            std::rethrow_exception(transfer->sink_failure);
        }
        long status = 0;
        curl_easy_getinfo(transfer->easy.get(), CURLINFO_RESPONSE_CODE, &status);
        const Download& download = *transfer->download;
        const std::string& url = transfer->current_url();
        // file:// answers 0 on success.
        if (code == CURLE_OK && (status == 0 || (status >= 200 && status < 300))) {
            core::BlobWriter& writer = *transfer->writer;
            if (writer.size() != download.size) {
                throw VerificationError(
                    fmt::format("{}: {}: size mismatch: expected {} bytes, got {}", download.label,
                                url, download.size, writer.size()));
            }
            if (const auto actual = writer.sha256(); actual != download.sha256) {
                throw VerificationError(fmt::format("{}: {}: sha256 mismatch: expected {}, got {}",
                                                    download.label, url, download.sha256, actual));
            }
            writer.commit(download.sha256);
            ++result.downloaded;
            result.bytes += writer.size();
            m_done_bytes += writer.size();
            return;
        }
        // A file:// mirror that lacks the file is what a 404 is for HTTP.
        const bool not_found =
            (code == CURLE_OK && status == 404) || code == CURLE_FILE_COULDNT_READ_FILE;
        if (not_found && transfer->url + 1 < download.urls.size()) {
            ++transfer->url; // the next mirror, from the first attempt
            transfer->attempt = 0;
            m_waiting.push_back(std::move(transfer));
            return;
        }
        if (transfer->attempt < m_options.retry.attempts &&
            core::is_transient_failure(code, status)) {
            // Doubling from the first delay; capped so that the shift stays defined.
            const auto delay =
                m_options.retry.first_delay * (1 << std::min(transfer->attempt - 1, 20));
            m_reporter.debug(fmt::format("{}: retrying in {} ms", url, delay.count()));
            transfer->not_before = Clock::now() + delay;
            m_waiting.push_back(std::move(transfer));
            return;
        }
        const std::string tries = transfer->attempt > 1
                                      ? fmt::format(" (after {} attempts)", transfer->attempt)
                                      : std::string();
        if (code == CURLE_OK) {
            throw core::NetworkError(fmt::format("{}: {}: server answered HTTP {}{}",
                                                 download.label, url, status, tries),
                                     status);
        }
        throw core::NetworkError(
            fmt::format("{}: {}: {}{}", download.label, url,
                        core::detail::curl_failure_text(code, transfer->error.data()), tries));
    }

    const core::Cache& m_cache;
    const Options& m_options;
    core::Reporter& m_reporter;
    std::unique_ptr<CURLM, decltype(&curl_multi_cleanup)> m_multi;
    std::deque<std::unique_ptr<Transfer>> m_waiting;
    std::map<CURL*, std::unique_ptr<Transfer>> m_running;
    std::uint64_t m_total = 0;
    std::uint64_t m_done_bytes = 0;
};

} // namespace

Result fetch_all(const std::vector<Download>& downloads, const core::Cache& cache,
                 const Options& options, core::Reporter& reporter) {
    core::detail::curl_global_once();
    Result result;
    std::vector<const Download*> todo;
    std::set<std::string> seen; // one transfer per blob, however many downloads name it
    for (const auto& download : downloads) {
        // The hash names the cache file: anything but a SHA-256 in hex is refused before it
        // can become a path.
        if (!core::is_sha256_hex(download.sha256)) {
            throw Error(fmt::format("{}: `{}` is not a SHA-256", download.label, download.sha256));
        }
        result.paths.push_back(cache.blob_path(download.sha256));
        if (!seen.insert(download.sha256).second) {
            continue;
        }
        if (cache.has_blob(download.sha256)) {
            ++result.cached;
            continue;
        }
        if (download.urls.empty()) {
            throw Error(fmt::format("{}: no URL to download it from", download.label));
        }
        todo.push_back(&download);
    }
    if (!todo.empty()) {
        Fetcher(cache, options, reporter).run(std::move(todo), result);
    }
    return result;
}

} // namespace distill::fetch
