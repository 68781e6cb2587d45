#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <unistd.h>
#include <utility>

#include <curl/curl.h>
#include <fmt/format.h>

#include <distill/core/cancel.hpp>
#include <distill/core/fs.hpp>
#include <distill/core/http.hpp>
#include <distill/core/reporter.hpp>
#include <distill/core/text.hpp>

namespace distill::core {
namespace {

using Clock = std::chrono::steady_clock;

/// OpenSSL's hashed directory of the system's CA certificates (libcurl's CA path, where
/// update-ca-certificates and `openssl rehash` link each certificate under its subject's hash),
/// or empty when there is none. From there OpenSSL reads the one certificate a server's chain
/// names; libcurl's CA bundle it parses whole first, tens of milliseconds with OpenSSL 3, spent
/// even on a registry that turns out to speak plain http on 127.0.0.1.
std::string find_hashed_ca_directory() {
    const auto* version = curl_version_info(CURLVERSION_NOW);
    if (version == nullptr || version->capath == nullptr) {
        return {};
    }
    std::error_code error;
    std::filesystem::directory_iterator entries(version->capath, error);
    // A handful of entries are enough to tell; a directory of thousands is not read through.
    constexpr int k_entries_looked_at = 4096;
    int looked_at = 0;
    for (; !error && entries != std::filesystem::directory_iterator() &&
           looked_at < k_entries_looked_at;
         entries.increment(error), ++looked_at) {
        const auto name = entries->path().filename().string();
        const bool hashed =
            name.size() >= 10 && name[8] == '.' &&
            std::all_of(name.begin(), name.begin() + 8,
                        [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }) &&
            std::all_of(name.begin() + 9, name.end(),
                        [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
        if (hashed) {
            return version->capath;
        }
    }
    return {};
}

/// find_hashed_ca_directory(), looked for once: every HttpEngine of a run asks.
const std::string& hashed_ca_directory() {
    static const std::string directory = find_hashed_ca_directory();
    return directory;
}

/// How much of an error answer's body is kept for the caller.
constexpr std::size_t k_error_body_limit = 4096;

/// The longest wait in the loop: cancellation is noticed within it.
constexpr std::chrono::milliseconds k_poll_interval{100};

void curl_global_once() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool same_name(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

struct SlistDeleter {
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

const char* method_name(HttpMethod method) {
    switch (method) {
    case HttpMethod::get:
        return "GET";
    case HttpMethod::head:
        return "HEAD";
    case HttpMethod::put:
        return "PUT";
    case HttpMethod::post:
        return "POST";
    case HttpMethod::patch:
        return "PATCH";
    }
    return "GET";
}

std::uint64_t body_size(const RequestBody& body) {
    if (const auto* bytes = std::get_if<std::string>(&body)) {
        return bytes->size();
    }
    if (const auto* range = std::get_if<FileRange>(&body)) {
        return range->length;
    }
    return 0;
}

/// One request on its way: its attempts, its curl handle and what has arrived so far.
struct Exchange {
    HttpTransfer transfer;
    int attempt = 1;         ///< counts the attempts the retry policy allows
    bool challenged = false; ///< the Authenticator had its one chance
    Clock::time_point not_before{};
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> easy{nullptr, &curl_easy_cleanup};
    std::unique_ptr<curl_slist, SlistDeleter> headers;
    std::array<char, CURL_ERROR_SIZE> error{};
    std::exception_ptr sink_failure; ///< what the sink or the body reader threw
    bool too_large = false;
    HttpResponse response;
    std::uint64_t body_position = 0; ///< how much of the request body curl has read
    Fd body_file;                    ///< the open file of a FileRange body

    [[nodiscard]] const HttpRequest& request() const { return transfer.request; }

    [[nodiscard]] long status() const {
        long status = 0;
        curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &status);
        return status;
    }
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* exchange = static_cast<Exchange*>(user);
    const std::size_t bytes = size * count;
    // The body of an error answer is the server's error page, not the file: it must not reach
    // the sink, where it would be hashed and size-checked as if it were. Its start is kept for
    // callers that read errors (a registry explains them in JSON). file:// answers 0.
    if (exchange->status() >= 300) {
        auto& kept = exchange->response.error_body;
        kept.append(data, std::min(bytes, k_error_body_limit - kept.size()));
        return bytes;
    }
    const auto& limit = exchange->request().max_bytes;
    if (limit && exchange->response.bytes + bytes > *limit) {
        exchange->too_large = true;
        return 0; // curl aborts the transfer with CURLE_WRITE_ERROR
    }
    if (exchange->transfer.sink.data) {
        try {
            exchange->transfer.sink.data(std::as_bytes(std::span(data, bytes)));
        } catch (...) {
            exchange->sink_failure = std::current_exception();
            return 0;
        }
    }
    exchange->response.bytes += bytes;
    return bytes;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto* exchange = static_cast<Exchange*>(user);
    auto& response = exchange->response;
    const std::string_view line(data, size * count);
    if (line.starts_with("HTTP/")) {
        // A new answer (after a redirect, or a 100 Continue): the previous one's headers do
        // not apply.
        response.headers.clear();
        response.etag.clear();
        response.last_modified.clear();
        return line.size();
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) {
        return line.size(); // the blank line that ends the headers
    }
    auto& [name, value] =
        response.headers.emplace_back(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
    if (same_name(name, "etag")) {
        response.etag = value;
    } else if (same_name(name, "last-modified")) {
        response.last_modified = value;
    }
    return line.size();
}

std::size_t on_read(char* buffer, std::size_t size, std::size_t count, void* user) {
    auto* exchange = static_cast<Exchange*>(user);
    const auto& body = exchange->request().body;
    const std::uint64_t left = body_size(body) - exchange->body_position;
    const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(size * count, left));
    try {
        if (const auto* bytes = std::get_if<std::string>(&body)) {
            std::memcpy(buffer, bytes->data() + exchange->body_position, take);
        } else if (const auto* range = std::get_if<FileRange>(&body)) {
            pread_all(exchange->body_file, std::as_writable_bytes(std::span(buffer, take)),
                      range->offset + exchange->body_position, range->path);
        }
    } catch (...) {
        exchange->sink_failure = std::current_exception();
        return CURL_READFUNC_ABORT;
    }
    exchange->body_position += take;
    return take;
}

int on_seek(void* user, curl_off_t offset, int origin) {
    // curl rewinds the body to send it again (a redirect, an authentication round).
    auto* exchange = static_cast<Exchange*>(user);
    if (origin != SEEK_SET || offset < 0 ||
        static_cast<std::uint64_t>(offset) > body_size(exchange->request().body)) {
        return CURL_SEEKFUNC_CANTSEEK;
    }
    exchange->body_position = static_cast<std::uint64_t>(offset);
    return CURL_SEEKFUNC_OK;
}

std::string curl_failure_text(CURLcode code, const char* error_buffer) {
    return error_buffer[0] != '\0' ? std::string(error_buffer) : curl_easy_strerror(code);
}

} // namespace

std::optional<std::string> find_header(const HttpHeaders& headers, std::string_view name) {
    for (const auto& [key, value] : headers) {
        if (same_name(key, name)) {
            return value;
        }
    }
    return std::nullopt;
}

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

std::optional<std::chrono::milliseconds>
parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now) {
    value = trim(value);
    if (value.empty()) {
        return std::nullopt;
    }
    if (std::all_of(value.begin(), value.end(),
                    [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; })) {
        std::uint64_t seconds = 0;
        const auto [end, error] =
            std::from_chars(value.data(), value.data() + value.size(), seconds);
        // Far beyond any sane wait (and a number too long to parse is too), short of
        // overflowing the milliseconds.
        constexpr std::uint64_t k_longest = 1U << 30U;
        seconds = error == std::errc{} ? std::min(seconds, k_longest) : k_longest;
        return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000U));
    }
    const std::string date(value);
    const time_t when = curl_getdate(date.c_str(), nullptr);
    if (when < 0) {
        return std::nullopt;
    }
    const auto wait = std::chrono::system_clock::from_time_t(when) - now;
    return std::max(std::chrono::milliseconds(0),
                    std::chrono::duration_cast<std::chrono::milliseconds>(wait));
}

struct HttpEngine::Impl {
    explicit Impl(HttpOptions engine_options)
        : options(std::move(engine_options))
        , multi(curl_multi_init(), &curl_multi_cleanup) {
        if (!multi) {
            throw Error("cannot initialise libcurl");
        }
        if (!options.extra_ca_pem.empty()) {
            // libcurl takes one CA bundle: the system's, with the extra certificates after it.
            const auto* version = curl_version_info(CURLVERSION_NOW);
            if (version != nullptr && version->cainfo != nullptr) {
                std::error_code error;
                if (std::filesystem::is_regular_file(version->cainfo, error)) {
                    ca_bundle = read_file(version->cainfo);
                }
            }
            ca_bundle += "\n" + options.extra_ca_pem;
        } else {
            ca_directory = hashed_ca_directory();
        }
    }

    ~Impl() { drop_all(); }

    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    static void check(CURLMcode code) {
        if (code != CURLM_OK) {
            throw Error(fmt::format("libcurl: {}", curl_multi_strerror(code)));
        }
    }

    /// Stops what is running and forgets what waits.
    void drop_all() {
        for (auto& [easy, exchange] : running) {
            curl_multi_remove_handle(multi.get(), easy);
        }
        running.clear();
        waiting.clear();
    }

    void run(const std::function<void()>& tick) {
        try {
            while (!waiting.empty() || !running.empty()) {
                throw_if_cancelled();
                start_ready();
                int still_running = 0;
                check(curl_multi_perform(multi.get(), &still_running));
                finish_done();
                if (!running.empty() || !waiting.empty()) {
                    check(curl_multi_poll(multi.get(), nullptr, 0, poll_timeout_ms(), nullptr));
                }
                if (tick) {
                    tick();
                }
            }
        } catch (...) {
            drop_all();
            throw;
        }
    }

    /// Transfers at once; at least one, or nothing would ever start.
    [[nodiscard]] std::size_t slots() const {
        return static_cast<std::size_t>(std::max(1, options.parallel));
    }

    /// How long to wait for the network: at most k_poll_interval, so that cancellation is
    /// noticed, and no longer than until a waiting transfer is due, if there is a free slot to
    /// start it in. Without a free slot only a transfer ending can change anything, and curl
    /// wakes the poll for that.
    [[nodiscard]] int poll_timeout_ms() const {
        auto wait = k_poll_interval;
        if (running.size() >= slots()) {
            return static_cast<int>(wait.count());
        }
        const auto now = Clock::now();
        for (const auto& exchange : waiting) {
            const auto due =
                std::chrono::duration_cast<std::chrono::milliseconds>(exchange->not_before - now);
            wait = std::max(std::chrono::milliseconds(0), std::min(wait, due));
        }
        return static_cast<int>(wait.count());
    }

    void start_ready() {
        const auto now = Clock::now();
        for (auto it = waiting.begin(); it != waiting.end() && running.size() < slots();) {
            if ((*it)->not_before > now) {
                ++it;
                continue;
            }
            start(std::move(*it));
            it = waiting.erase(it);
        }
    }

    void add_header(Exchange& exchange, const std::string& line) {
        exchange.headers.reset(curl_slist_append(exchange.headers.release(), line.c_str()));
        if (!exchange.headers) {
            throw Error("libcurl: out of memory");
        }
    }

    /// Every option of a transfer is set here, for all of them.
    void configure(Exchange& exchange) {
        CURL* easy = exchange.easy.get();
        const HttpRequest& request = exchange.request();
        curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
        curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
        if (!options.tls_verify) {
            curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
            curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
        }
        if (!ca_bundle.empty()) {
            curl_blob blob{ca_bundle.data(), ca_bundle.size(), CURL_BLOB_COPY};
            curl_easy_setopt(easy, CURLOPT_CAINFO_BLOB, &blob);
        } else if (!ca_directory.empty()) {
            // The same certificates as the bundle, read one by one as a chain needs them.
            curl_easy_setopt(easy, CURLOPT_CAINFO, nullptr);
            curl_easy_setopt(easy, CURLOPT_CAPATH, ca_directory.c_str());
        }
        if (!options.client_certificate.empty()) {
            curl_easy_setopt(easy, CURLOPT_SSLCERT, options.client_certificate.c_str());
            curl_easy_setopt(easy, CURLOPT_SSLKEY, options.client_key.c_str());
        }
        curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 10L);
        const bool reads = request.method == HttpMethod::get || request.method == HttpMethod::head;
        // An upload to file:// would write a local file.
        curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, reads ? "http,https,file" : "http,https");
        curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(easy, CURLOPT_USERAGENT, "distill/" DISTILL_VERSION);
        curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT,
                         static_cast<long>(options.connect_timeout.count()));
        // Abort a transfer that stalls; a retry follows.
        curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, options.low_speed_bytes);
        curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME,
                         static_cast<long>(options.low_speed_time.count()));
        curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, exchange.error.data());
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &on_body);
        curl_easy_setopt(easy, CURLOPT_WRITEDATA, &exchange);
        curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &on_header);
        curl_easy_setopt(easy, CURLOPT_HEADERDATA, &exchange);
        if (request.max_bytes) {
            // Refused before the body when the server says its length.
            curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE,
                             static_cast<curl_off_t>(*request.max_bytes));
        }

        const auto size = static_cast<curl_off_t>(body_size(request.body));
        switch (request.method) {
        case HttpMethod::get:
            break;
        case HttpMethod::head:
            curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
            break;
        case HttpMethod::post:
            curl_easy_setopt(easy, CURLOPT_POST, 1L);
            curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, size);
            break;
        case HttpMethod::put:
        case HttpMethod::patch:
            curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, size);
            if (request.method == HttpMethod::patch) {
                curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method_name(request.method));
            }
            break;
        }
        if (!reads) {
            curl_easy_setopt(easy, CURLOPT_READFUNCTION, &on_read);
            curl_easy_setopt(easy, CURLOPT_READDATA, &exchange);
            curl_easy_setopt(easy, CURLOPT_SEEKFUNCTION, &on_seek);
            curl_easy_setopt(easy, CURLOPT_SEEKDATA, &exchange);
        }

        exchange.headers.reset();
        for (const auto& [name, value] : request.headers) {
            add_header(exchange, fmt::format("{}: {}", name, value));
        }
        if (request.etag && !request.etag->empty()) {
            add_header(exchange, "If-None-Match: " + *request.etag);
        }
        if (request.last_modified && !request.last_modified->empty()) {
            add_header(exchange, "If-Modified-Since: " + *request.last_modified);
        }
        if (options.authenticator != nullptr && !find_header(request.headers, "Authorization")) {
            if (const auto credentials = options.authenticator->authorization(request)) {
                add_header(exchange, "Authorization: " + *credentials);
            }
        }
        if (exchange.headers) {
            curl_easy_setopt(easy, CURLOPT_HTTPHEADER, exchange.headers.get());
        }
    }

    void start(std::unique_ptr<Exchange> exchange) {
        exchange->error.fill('\0');
        exchange->sink_failure = nullptr;
        exchange->too_large = false;
        exchange->body_position = 0;
        exchange->response = HttpResponse{};
        if (const auto* range = std::get_if<FileRange>(&exchange->request().body);
            range != nullptr && !exchange->body_file) {
            exchange->body_file = open_read(range->path);
        }
        exchange->easy.reset(curl_easy_init());
        if (!exchange->easy) {
            throw Error("cannot initialise libcurl");
        }
        configure(*exchange);
        CURL* easy = exchange->easy.get();
        check(curl_multi_add_handle(multi.get(), easy));
        running.emplace(easy, std::move(exchange));
    }

    void finish_done() {
        int left = 0;
        while (CURLMsg* message = curl_multi_info_read(multi.get(), &left)) {
            if (message->msg != CURLMSG_DONE) {
                continue;
            }
            CURL* easy = message->easy_handle;
            const CURLcode code = message->data.result;
            curl_multi_remove_handle(multi.get(), easy);
            auto found = running.find(easy);
            auto exchange = std::move(found->second);
            running.erase(found);
            settle(std::move(exchange), code);
        }
    }

    /// Queues the exchange again, after `delay`, restarting its sink.
    void again(std::unique_ptr<Exchange> exchange, std::chrono::milliseconds delay) {
        if (exchange->transfer.sink.restart) {
            exchange->transfer.sink.restart(); // the body starts again
        }
        exchange->not_before = Clock::now() + delay;
        waiting.push_back(std::move(exchange));
    }

    /// The wait before the next attempt: doubling from the first delay, or what the server
    /// asks for in Retry-After when that is longer, never more than max_delay.
    [[nodiscard]] std::chrono::milliseconds retry_delay(const Exchange& exchange) const {
        const auto& retry = options.retry;
        // Capped so that the shift stays defined.
        auto delay = retry.first_delay * (1 << std::min(exchange.attempt - 1, 20));
        if (const auto asked = exchange.response.header("Retry-After")) {
            if (const auto wait = parse_retry_after(*asked, std::chrono::system_clock::now())) {
                delay = std::max(delay, *wait);
            }
        }
        return std::min(delay, retry.max_delay);
    }

    void settle(std::unique_ptr<Exchange> exchange, CURLcode code) {
        const long status = exchange->status();
        const HttpRequest& request = exchange->request();
        // file:// answers 0 on success.
        const bool answered =
            code == CURLE_OK && (status == 0 || (status >= 200 && status < 300) || status == 304);
        HttpResult result;
        if (exchange->sink_failure) {
            result.error = exchange->sink_failure; // never retried: the sink judged the body
        } else if (exchange->too_large || code == CURLE_FILESIZE_EXCEEDED) {
            result.error = std::make_exception_ptr(
                NetworkError(fmt::format("{}: the answer is larger than the {} bytes allowed",
                                         request.url, request.max_bytes.value_or(0)),
                             status));
        } else if (answered) {
            exchange->response.status = status == 0 ? 200 : status;
        } else if (code == CURLE_OK && status == 401 && retry_authenticated(*exchange)) {
            again(std::move(exchange), std::chrono::milliseconds(0));
            return;
        } else if (exchange->attempt < options.retry.attempts &&
                   is_transient_failure(code, status)) {
            const auto delay = retry_delay(*exchange);
            if (options.reporter != nullptr) {
                options.reporter->debug(
                    fmt::format("{}: retrying in {} ms", request.url, delay.count()));
            }
            ++exchange->attempt;
            again(std::move(exchange), delay);
            return;
        } else {
            // A file:// mirror that lacks the file is what a 404 is for HTTP.
            result.not_found =
                (code == CURLE_OK && status == 404) || code == CURLE_FILE_COULDNT_READ_FILE;
            result.error = std::make_exception_ptr(failure(*exchange, code, status));
        }
        if (!answered) {
            exchange->response.status = status;
        }
        result.response = std::move(exchange->response);
        auto done = std::move(exchange->transfer.done);
        exchange.reset(); // its handle and body file go before the handler runs
        if (done) {
            done(result);
        } else if (result.error) {
            std::rethrow_exception(result.error);
        }
    }

    /// Whether a 401 is answered by new credentials: once per request, when there is an
    /// Authenticator and the server said what it wants.
    bool retry_authenticated(Exchange& exchange) {
        if (options.authenticator == nullptr || exchange.challenged) {
            return false;
        }
        const auto challenge = exchange.response.header("WWW-Authenticate");
        if (!challenge) {
            return false;
        }
        exchange.challenged = true;
        return options.authenticator->challenge(exchange.request(), *challenge);
    }

    static NetworkError failure(const Exchange& exchange, CURLcode code, long status) {
        const std::string tries = exchange.attempt > 1
                                      ? fmt::format(" (after {} attempts)", exchange.attempt)
                                      : std::string();
        const auto& url = exchange.request().url;
        if (code == CURLE_OK) {
            return NetworkError(fmt::format("{}: server answered HTTP {}{}", url, status, tries),
                                status);
        }
        return NetworkError(
            fmt::format("{}: {}{}", url, curl_failure_text(code, exchange.error.data()), tries));
    }

    HttpOptions options;
    std::string ca_bundle;    ///< the system's CA bundle and options.extra_ca_pem; empty: default
    std::string ca_directory; ///< hashed_ca_directory() when there is no ca_bundle
    std::unique_ptr<CURLM, decltype(&curl_multi_cleanup)> multi;
    std::deque<std::unique_ptr<Exchange>> waiting;
    std::map<CURL*, std::unique_ptr<Exchange>> running;
};

HttpEngine::HttpEngine(HttpOptions options) {
    curl_global_once();
    m_impl = std::make_unique<Impl>(std::move(options));
}

HttpEngine::~HttpEngine() = default;

void HttpEngine::add(HttpTransfer transfer) {
    auto exchange = std::make_unique<Exchange>();
    exchange->transfer = std::move(transfer);
    m_impl->waiting.push_back(std::move(exchange));
}

void HttpEngine::run(const std::function<void()>& tick) {
    m_impl->run(tick);
}

HttpClient::HttpClient(RetryPolicy retry)
    : m_engine(HttpOptions{retry}) {}

HttpClient::HttpClient(HttpOptions options)
    : m_engine(std::move(options)) {}

HttpClient::~HttpClient() = default;

HttpResponse HttpClient::get(const HttpRequest& request, const BodySink& sink) {
    HttpRequest get = request;
    get.method = HttpMethod::get;
    return perform(std::move(get), sink);
}

HttpResponse HttpClient::head(const HttpRequest& request) {
    HttpRequest head = request;
    head.method = HttpMethod::head;
    return perform(std::move(head), {});
}

HttpResponse HttpClient::send(const HttpRequest& request, const BodySink& sink) {
    return perform(request, sink);
}

HttpResponse HttpClient::perform(HttpRequest request, const BodySink& sink) {
    HttpResult outcome;
    m_engine.add(HttpTransfer{std::move(request), sink, [&](HttpResult& result) {
                                  outcome = std::move(result);
                              }});
    m_engine.run();
    if (outcome.error) {
        std::rethrow_exception(outcome.error);
    }
    return std::move(outcome.response);
}

} // namespace distill::core
