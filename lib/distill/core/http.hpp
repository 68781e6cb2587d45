#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <distill/core/error.hpp>

// The one HTTP engine of distill: every request (a signed release file, an index, the parallel
// package downloads, and later the blobs and manifests pushed to a registry) goes through
// HttpEngine, which sets libcurl's options, retries, waits, honours cancellation and words the
// errors in one place. HttpClient is the engine for one request at a time.
namespace distill::core {

class Reporter;

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

/// The HTTP methods distill sends.
enum class HttpMethod { get, head, put, post, patch };

/// Header fields in order, as (name, value); names keep the spelling they were given with.
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

/// The value of the first field called `name` (compared without regard to case), if any.
[[nodiscard]] std::optional<std::string> find_header(const HttpHeaders& headers,
                                                     std::string_view name);

/// A part of a file sent as a request body, read from disk as it goes out (a blob, or a chunk
/// of one, pushed to a registry), so that it is never held whole in memory.
struct FileRange {
    std::filesystem::path path;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
};

/// A request body: none, bytes in memory, or a range of a file.
using RequestBody = std::variant<std::monostate, std::string, FileRange>;

/// One request. A conditional request (etag / last_modified set) may be answered with
/// 304 Not Modified, in which case no body arrives.
struct HttpRequest {
    std::string url;
    std::optional<std::string> etag;          ///< sent as If-None-Match
    std::optional<std::string> last_modified; ///< sent as If-Modified-Since
    HttpMethod method = HttpMethod::get;      ///< HttpClient::get and head set it themselves
    HttpHeaders headers{};                    ///< sent as they are ("Content-Type", "Range", ...)
    RequestBody body{};                       ///< for PUT, POST and PATCH
    /// A response body longer than this is a NetworkError (not retried); none when unset.
    std::optional<std::uint64_t> max_bytes{};
};

/// What the server answered.
struct HttpResponse {
    long status = 0;           ///< 200, or 304 for a conditional request that matched
    std::string etag;          ///< the ETag header, if any
    std::string last_modified; ///< the Last-Modified header, if any
    std::uint64_t bytes = 0;   ///< body bytes received (given to the sink)
    HttpHeaders headers{};     ///< every header of the final answer (after redirects)
    /// The start (4 KiB at most) of an error answer's body: the server's error page or a
    /// registry's JSON error, which never reaches the sink.
    std::string error_body{};

    /// The value of the header `name` (any case), if the answer has it: "Location",
    /// "Docker-Content-Digest", "WWW-Authenticate", "Range", ...
    [[nodiscard]] std::optional<std::string> header(std::string_view name) const {
        return find_header(headers, name);
    }
};

/// Where a response body goes. `restart` is called before a retry so the sink can discard a
/// partial body; `data` receives the body in pieces. Only the body of a successful answer
/// (2xx) arrives; without `data` the body is dropped.
struct BodySink {
    std::function<void()> restart;
    std::function<void(std::span<const std::byte>)> data;
};

/// Retry policy for transient failures (connection errors, timeouts, 5xx, 408, 429).
struct RetryPolicy {
    int attempts = 4;                           ///< in all, the first one included
    std::chrono::milliseconds first_delay{250}; ///< doubled after each failed attempt
    /// The longest wait before a retry, whatever the doubling or the server's Retry-After say.
    std::chrono::milliseconds max_delay{std::chrono::seconds(60)};
};

/// Credentials for requests (a registry's bearer token, say). The engine asks for them before
/// each request, and once per request when the server refuses it with 401 and a challenge.
class Authenticator {
public:
    virtual ~Authenticator() = default;

    /// The Authorization header value for `request` ("Bearer <token>", "Basic <...>"), or
    /// nullopt to send none.
    [[nodiscard]] virtual std::optional<std::string> authorization(const HttpRequest& request) = 0;

    /// The server answered `request` with 401 and this WWW-Authenticate value. Returns true
    /// when new credentials were obtained (a token for the realm and scope the challenge names),
    /// so that the request is sent once more with authorization(); false lets the 401 stand.
    /// It may make requests of its own, with another HttpClient (not the engine asking).
    virtual bool challenge(const HttpRequest& request, std::string_view www_authenticate) = 0;
};

/// How an engine sends its requests.
struct HttpOptions {
    RetryPolicy retry{};
    int parallel = 8; ///< transfers at once (less than 1 counts as 1)
    std::chrono::seconds connect_timeout{30};
    /// A transfer slower than `low_speed_bytes` per second for `low_speed_time` is aborted (and
    /// retried): a stalled server does not hold a build forever.
    long low_speed_bytes = 1024;
    std::chrono::seconds low_speed_time{60};
    Authenticator* authenticator = nullptr; ///< none: no Authorization, and a 401 is an error
    Reporter* reporter = nullptr;           ///< a debug line for each retry, when set
    /// TLS: peers are verified against the system's CA certificates and these (PEM), unless
    /// `tls_verify` is false (only when the user asks, as skopeo's --tls-verify=false).
    std::string extra_ca_pem{};
    bool tls_verify = true;
    /// A client certificate and its key (PEM files) for TLS client authentication; empty: none.
    std::filesystem::path client_certificate{};
    std::filesystem::path client_key{};
};

/// How one request ended.
struct HttpResult {
    HttpResponse response;    ///< the last answer (status 0 when none came)
    std::exception_ptr error; ///< null on success; else a NetworkError, or what the sink threw
    /// The failure is a 404, or a file:// URL whose file is missing: a fallback URL may have it.
    bool not_found = false;

    [[nodiscard]] bool ok() const noexcept { return !error; }
};

/// One request for an HttpEngine, with where its answer goes.
struct HttpTransfer {
    HttpRequest request;
    BodySink sink{};
    /// Called once the request has ended, successfully or not (after its retries). It may add
    /// further transfers to the engine (a fallback URL), and it may throw, which ends run().
    /// Without it, a failure is thrown from run().
    std::function<void(HttpResult&)> done{};
};

/// Runs requests over libcurl's multi interface: at most `parallel` at once, each retried on
/// its own schedule (exponential backoff, or the server's Retry-After when later, at most
/// max_delay) while the others go on. Transient failures are connection errors, timeouts, 5xx,
/// 408 and 429; a 401 with a challenge goes to the Authenticator. Cancellation
/// (core::request_cancel) stops every transfer and every wait within about 100 ms with
/// Error("interrupted"). Errors name the URL; a failure after retries says how many attempts
/// were made. Protocols: http, https and file (file:// for GET and HEAD only); redirects are
/// followed to http and https only.
class HttpEngine {
public:
    explicit HttpEngine(HttpOptions options = {});
    ~HttpEngine();
    HttpEngine(const HttpEngine&) = delete;
    HttpEngine& operator=(const HttpEngine&) = delete;

    /// Queues a transfer; it starts in run().
    void add(HttpTransfer transfer);

    /// Runs until every queued transfer (and every one added meanwhile) has ended, calling
    /// `tick` once per round of its loop, at least every 100 ms while it waits (for progress).
    /// On an exception (a done handler threw, a failure without a handler, cancellation) the
    /// transfers still running are dropped and the engine is ready for new ones.
    void run(const std::function<void()>& tick = {});

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

/// One request at a time, on an HttpEngine of its own (which keeps connections open between
/// requests). One instance per thread.
class HttpClient {
public:
    explicit HttpClient(RetryPolicy retry = {});
    explicit HttpClient(HttpOptions options);
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    /// Performs the request as a GET, streaming the body to `sink`. Retries transient failures
    /// with exponential backoff; throws NetworkError (naming the URL) when it gives up or the
    /// server answers with an error status.
    HttpResponse get(const HttpRequest& request, const BodySink& sink);

    /// Asks for the headers only (HEAD; for file:// whether the file is there): whether the
    /// URL exists, without downloading it. Retries and errors as get().
    HttpResponse head(const HttpRequest& request);

    /// Performs the request with its own method, headers and body (PUT, POST, PATCH, ...);
    /// a successful answer's body goes to `sink`. Retries and errors as get().
    HttpResponse send(const HttpRequest& request, const BodySink& sink = {});

private:
    HttpResponse perform(HttpRequest request, const BodySink& sink);

    HttpEngine m_engine;
};

/// Whether a failure with this curl code or HTTP status is worth retrying.
[[nodiscard]] bool is_transient_failure(int curl_code, long http_status);

/// How long a Retry-After value asks to wait: delay-seconds ("120") or an HTTP date, counted
/// from `now`; a date in the past is no wait. Nullopt when it is neither.
[[nodiscard]] std::optional<std::chrono::milliseconds>
parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now);

} // namespace distill::core
