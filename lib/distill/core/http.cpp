#include <algorithm>
#include <array>
#include <cctype>
#include <exception>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>

#include <curl/curl.h>
#include <fmt/format.h>

#include <distill/core/cancel.hpp>
#include <distill/core/curl_setup.hpp>
#include <distill/core/http.hpp>

namespace distill::core {
namespace {

CURL* as_curl(void* handle) {
    return static_cast<CURL*>(handle);
}

struct Transfer {
    CURL* curl = nullptr;
    const BodySink* sink = nullptr;
    HttpResponse response;
    std::exception_ptr sink_failure; ///< what the sink threw; rethrown after the transfer
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* transfer = static_cast<Transfer*>(user);
    const std::size_t bytes = size * count;
    // The body of an error answer is the server's error page, not the file: it must not reach
    // the sink, where it would be hashed and size-checked as if it were.
    long status = 0;
    curl_easy_getinfo(transfer->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 300 || transfer->sink == nullptr) {
        return bytes;
    }
    try {
        transfer->sink->data(std::as_bytes(std::span(data, bytes)));
    } catch (...) {
        transfer->sink_failure = std::current_exception();
        return 0; // makes curl abort the transfer with CURLE_WRITE_ERROR
    }
    transfer->response.bytes += bytes;
    return bytes;
}

int on_progress(void* /*user*/, curl_off_t /*dltotal*/, curl_off_t /*dlnow*/,
                curl_off_t /*ultotal*/, curl_off_t /*ulnow*/) {
    return cancel_requested() ? 1 : 0; // non-zero aborts with CURLE_ABORTED_BY_CALLBACK
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())) != 0) {
        text.remove_prefix(1);
    }
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) {
        text.remove_suffix(1);
    }
    return text;
}

bool header_is(std::string_view line, std::string_view name) {
    if (line.size() <= name.size() || line[name.size()] != ':') {
        return false;
    }
    return std::equal(name.begin(), name.end(), line.begin(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) ==
               std::tolower(static_cast<unsigned char>(b));
    });
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto* transfer = static_cast<Transfer*>(user);
    const std::string_view line(data, size * count);
    if (line.starts_with("HTTP/")) {
        // A new response (after a redirect): headers of the previous one do not apply.
        transfer->response.etag.clear();
        transfer->response.last_modified.clear();
    } else if (header_is(line, "etag")) {
        transfer->response.etag = trim(line.substr(5));
    } else if (header_is(line, "last-modified")) {
        transfer->response.last_modified = trim(line.substr(14));
    }
    return size * count;
}

struct SlistDeleter {
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

} // namespace

namespace detail {

void curl_global_once() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

void set_common_options(CURL* curl, const std::string& url, char* error_buffer) {
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https,file");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "distill/" DISTILL_VERSION);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
    // Abort a transfer that stalls below 1 KiB/s for a minute; a retry follows.
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
}

std::string curl_failure_text(CURLcode code, const char* error_buffer) {
    return error_buffer != nullptr && error_buffer[0] != '\0' ? std::string(error_buffer)
                                                              : curl_easy_strerror(code);
}

} // namespace detail

bool is_transient_failure(int curl_code, long http_status) {
    switch (curl_code) {
    case CURLE_OK:
        return http_status == 408 || http_status == 429 ||
               (http_status >= 500 && http_status < 600);
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

HttpClient::HttpClient(RetryPolicy retry)
    : m_curl(nullptr)
    , m_retry(retry) {
    detail::curl_global_once();
    m_curl = curl_easy_init();
    if (m_curl == nullptr) {
        throw Error("cannot initialise libcurl");
    }
}

HttpClient::~HttpClient() {
    curl_easy_cleanup(as_curl(m_curl));
}

HttpResponse HttpClient::get(const HttpRequest& request, const BodySink& sink) {
    return perform(request, &sink);
}

HttpResponse HttpClient::head(const HttpRequest& request) {
    return perform(request, nullptr);
}

HttpResponse HttpClient::perform(const HttpRequest& request, const BodySink* sink) {
    CURL* curl = as_curl(m_curl);
    auto delay = m_retry.first_delay;
    for (int attempt = 1;; ++attempt) {
        curl_easy_reset(curl);
        Transfer transfer;
        transfer.curl = curl;
        transfer.sink = sink;
        std::array<char, CURL_ERROR_SIZE> error_buffer{};

        std::unique_ptr<curl_slist, SlistDeleter> headers;
        auto add_header = [&](const std::string& header) {
            headers.reset(curl_slist_append(headers.release(), header.c_str()));
        };
        if (request.etag && !request.etag->empty()) {
            add_header("If-None-Match: " + *request.etag);
        }
        if (request.last_modified && !request.last_modified->empty()) {
            add_header("If-Modified-Since: " + *request.last_modified);
        }

        detail::set_common_options(curl, request.url, error_buffer.data());
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &on_body);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
        curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &on_header);
        curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
        if (headers) {
            curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
        }
        if (sink == nullptr) {
            curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
        }
        // curl calls this while it waits, too (a stalled server): cancellation ends the wait.
        curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &on_progress);

        if (attempt > 1 && sink != nullptr && sink->restart) {
            sink->restart();
        }
        const CURLcode code = curl_easy_perform(curl);
        throw_if_cancelled();
        if (transfer.sink_failure) {
            std::rethrow_exception(transfer.sink_failure);
        }
        long status = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        transfer.response.status = status;
        // file:// answers 0 on success.
        const bool ok = code == CURLE_OK && (status == 0 || status == 200 || status == 304 ||
                                             (status > 200 && status < 300));
        if (ok) {
            if (status == 0) {
                transfer.response.status = 200;
            }
            return transfer.response;
        }
        if (attempt < m_retry.attempts && is_transient_failure(code, status)) {
            for (auto slept = std::chrono::milliseconds(0); slept < delay;
                 slept += std::chrono::milliseconds(50)) {
                throw_if_cancelled();
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
            delay *= 2;
            continue;
        }
        const std::string tries =
            attempt > 1 ? fmt::format(" (after {} attempts)", attempt) : std::string();
        if (code == CURLE_OK) {
            throw NetworkError(
                fmt::format("{}: server answered HTTP {}{}", request.url, status, tries), status);
        }
        throw NetworkError(fmt::format(
            "{}: {}{}", request.url, detail::curl_failure_text(code, error_buffer.data()), tries));
    }
}

} // namespace distill::core
