#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include <distill/core/error.hpp>

namespace distill::core {

/// A download failed: the server was unreachable, the transfer broke, or it answered with an
/// error status. The message names the URL.
class NetworkError : public Error {
public:
    NetworkError(const std::string& message, long http_status = 0)
        : Error(message, ExitCode::network)
        , m_status(http_status) {}
    /// The HTTP status the server answered with, or 0 if it never answered.
    [[nodiscard]] long http_status() const noexcept { return m_status; }

private:
    long m_status;
};

/// One GET request. A conditional request (etag / last_modified set) may be answered with
/// 304 Not Modified, in which case no body arrives.
struct HttpRequest {
    std::string url;
    std::optional<std::string> etag;          ///< sent as If-None-Match
    std::optional<std::string> last_modified; ///< sent as If-Modified-Since
};

/// What the server answered.
struct HttpResponse {
    long status = 0;           ///< 200, or 304 for a conditional request that matched
    std::string etag;          ///< the ETag header, if any
    std::string last_modified; ///< the Last-Modified header, if any
    std::uint64_t bytes = 0;   ///< body bytes received
};

/// Where a response body goes. `restart` is called before a retry so the sink can discard a
/// partial body; `data` receives the body in pieces.
struct BodySink {
    std::function<void()> restart;
    std::function<void(std::span<const std::byte>)> data;
};

/// Retry policy for transient failures (connection errors, timeouts, 5xx, 429).
struct RetryPolicy {
    int attempts = 4;
    std::chrono::milliseconds first_delay{250};
};

/// A small libcurl-based HTTP(S) and file:// client. One instance per thread.
class HttpClient {
public:
    explicit HttpClient(RetryPolicy retry = {});
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    /// Performs the request, streaming the body to `sink`. Retries transient failures with
    /// exponential backoff; throws NetworkError (naming the URL) when it gives up or the
    /// server answers with an error status.
    HttpResponse get(const HttpRequest& request, const BodySink& sink);

    /// Asks for the headers only (HEAD; for file:// whether the file is there): whether the
    /// URL exists, without downloading it. Retries and errors as get().
    HttpResponse head(const HttpRequest& request);

private:
    HttpResponse perform(const HttpRequest& request, const BodySink* sink);

    void* m_curl;
    RetryPolicy m_retry;
};

/// Whether a failure with this curl code or HTTP status is worth retrying.
[[nodiscard]] bool is_transient_failure(int curl_code, long http_status);

} // namespace distill::core
