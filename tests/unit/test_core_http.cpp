// The HTTP engine (core::HttpEngine, core::HttpClient) against a loopback server in this
// process: methods, headers and bodies, retries and Retry-After, cancellation, the
// authentication hook, error pages, size limits and parallel transfers.

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <iostream>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <distill/core/cancel.hpp>
#include <distill/core/digest.hpp>
#include <distill/core/fs.hpp>
#include <distill/core/http.hpp>
#include <distill/core/reporter.hpp>

#include "support.hpp"

namespace distill::core {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

/// A request as the server saw it.
struct Seen {
    std::string method;
    std::string target;
    HttpHeaders headers;
    std::string body;
    Clock::time_point at;

    [[nodiscard]] std::optional<std::string> header(std::string_view name) const {
        return find_header(headers, name);
    }
};

/// What the server answers.
struct Answer {
    int status = 200;
    HttpHeaders headers{};
    std::string body{};
    std::chrono::milliseconds delay{0}; ///< before answering
    bool stall = false;                 ///< never answer (until the server stops)
    bool chunked = false;               ///< no Content-Length: the body goes in chunks
};

/// An HTTP/1.1 server on 127.0.0.1 in a thread of this process, one thread per connection,
/// answering each request as `handler` says (called under the server's lock, one at a time)
/// and closing the connection after it. The destructor ends stalled answers and joins.
class LoopbackServer {
public:
    using Handler = std::function<Answer(const Seen& request, std::size_t index)>;

    explicit LoopbackServer(Handler handler)
        : m_handler(std::move(handler)) {
        m_listener = Fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        if (!m_listener ||
            ::bind(m_listener.get(), reinterpret_cast<sockaddr*>(&address), length) != 0 ||
            ::listen(m_listener.get(), 64) != 0 ||
            ::getsockname(m_listener.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
            throw std::runtime_error(fmt::format("loopback server: {}", std::strerror(errno)));
        }
        m_port = ntohs(address.sin_port);
        m_acceptor = std::thread([this] { accept_loop(); });
    }

    ~LoopbackServer() {
        {
            const std::lock_guard lock(m_mutex);
            m_stopping = true;
        }
        m_wake.notify_all();
        ::shutdown(m_listener.get(), SHUT_RDWR);
        m_acceptor.join();
        for (auto& connection : m_connections) {
            connection.join();
        }
    }

    LoopbackServer(const LoopbackServer&) = delete;
    LoopbackServer& operator=(const LoopbackServer&) = delete;

    [[nodiscard]] std::string url(std::string_view path) const {
        return fmt::format("http://127.0.0.1:{}{}", m_port, path);
    }

    /// Every request so far, in order of arrival.
    [[nodiscard]] std::vector<Seen> seen() const {
        const std::lock_guard lock(m_mutex);
        return m_seen;
    }

    /// The most requests that were being answered at once.
    [[nodiscard]] int peak() const {
        const std::lock_guard lock(m_mutex);
        return m_peak;
    }

private:
    void accept_loop() {
        for (;;) {
            const int client = ::accept4(m_listener.get(), nullptr, nullptr, SOCK_CLOEXEC);
            const std::lock_guard lock(m_mutex);
            if (client < 0 || m_stopping) {
                if (client >= 0) {
                    ::close(client);
                }
                return;
            }
            m_connections.emplace_back([this, client] { serve(Fd(client)); });
        }
    }

    /// Reads until `buffer` holds `wanted` bytes, or returns false on EOF or error.
    static bool read_until(int fd, std::string& buffer, std::size_t wanted) {
        std::array<char, 16384> chunk{};
        while (buffer.size() < wanted) {
            const ssize_t got = ::recv(fd, chunk.data(), chunk.size(), 0);
            if (got <= 0) {
                return false;
            }
            buffer.append(chunk.data(), static_cast<std::size_t>(got));
        }
        return true;
    }

    static void send_all(int fd, std::string_view data) {
        while (!data.empty()) {
            const ssize_t sent = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
            if (sent <= 0) {
                return;
            }
            data.remove_prefix(static_cast<std::size_t>(sent));
        }
    }

    /// Parses a request's head; the body follows it in `buffer`.
    static std::optional<Seen> read_request(int fd, std::string& buffer) {
        std::size_t end = std::string::npos;
        while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
            if (!read_until(fd, buffer, buffer.size() + 1)) {
                return std::nullopt;
            }
        }
        Seen seen;
        std::string_view head(buffer.data(), end);
        auto line_end = head.find("\r\n");
        const auto request_line = head.substr(0, line_end);
        const auto space = request_line.find(' ');
        seen.method = request_line.substr(0, space);
        seen.target = request_line.substr(space + 1, request_line.rfind(' ') - space - 1);
        while (line_end != std::string_view::npos) {
            head.remove_prefix(line_end + 2);
            line_end = head.find("\r\n");
            const auto line = head.substr(0, line_end);
            const auto colon = line.find(':');
            auto value = line.substr(colon + 1);
            value.remove_prefix(std::min(value.find_first_not_of(' '), value.size()));
            seen.headers.emplace_back(line.substr(0, colon), value);
        }
        buffer.erase(0, end + 4);
        return seen;
    }

    void serve(Fd connection) {
        const int fd = connection.get();
        std::string buffer;
        auto seen = read_request(fd, buffer);
        if (!seen) {
            return;
        }
        if (seen->header("Expect") == "100-continue") {
            send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n");
        }
        const std::size_t length = std::stoul(seen->header("Content-Length").value_or("0"));
        if (!read_until(fd, buffer, length)) {
            return;
        }
        seen->body = buffer.substr(0, length);
        seen->at = Clock::now();
        Answer answer;
        {
            const std::lock_guard lock(m_mutex);
            m_seen.push_back(*seen);
            answer = m_handler(*seen, m_seen.size() - 1);
            m_peak = std::max(m_peak, ++m_in_flight);
        }
        {
            // Waiting for the delay, or forever when stalling, ends when the server stops.
            std::unique_lock lock(m_mutex);
            if (answer.stall) {
                m_wake.wait(lock, [this] { return m_stopping; });
            } else {
                m_wake.wait_for(lock, answer.delay, [this] { return m_stopping; });
            }
            --m_in_flight;
            if (m_stopping) {
                return;
            }
        }
        std::string out = fmt::format("HTTP/1.1 {} Test\r\nConnection: close\r\n", answer.status);
        for (const auto& [name, value] : answer.headers) {
            out += fmt::format("{}: {}\r\n", name, value);
        }
        if (answer.chunked) {
            out += "Transfer-Encoding: chunked\r\n\r\n";
            if (seen->method != "HEAD") {
                for (std::size_t at = 0; at < answer.body.size(); at += 1000) {
                    const auto piece = std::string_view(answer.body).substr(at, 1000);
                    out += fmt::format("{:x}\r\n{}\r\n", piece.size(), piece);
                }
                out += "0\r\n\r\n";
            }
        } else {
            out += fmt::format("Content-Length: {}\r\n\r\n", answer.body.size());
            if (seen->method != "HEAD") {
                out += answer.body;
            }
        }
        send_all(fd, out);
        ::shutdown(fd, SHUT_WR);
        // Wait for the client to close, so that it reads the whole answer.
        std::array<char, 256> rest{};
        while (::recv(fd, rest.data(), rest.size(), 0) > 0) {
        }
    }

    Handler m_handler;
    Fd m_listener;
    int m_port = 0;
    std::thread m_acceptor;
    std::vector<std::thread> m_connections; ///< only the acceptor adds, under the lock
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_stopping = false;
    std::vector<Seen> m_seen;
    int m_in_flight = 0;
    int m_peak = 0;
};

/// The body of a response, collected.
struct Collected {
    std::string body;
    int restarts = 0;
    BodySink sink{[this] {
                      body.clear();
                      ++restarts;
                  },
                  [this](std::span<const std::byte> data) {
                      body.append(reinterpret_cast<const char*>(data.data()), data.size());
                  }};
};

/// Remembers the debug lines.
class RecordingReporter final : public Reporter {
public:
    void stage(std::string_view /*name*/) override {}
    void info(std::string_view /*message*/) override {}
    void warning(std::string_view /*message*/) override {}
    void debug(std::string_view message) override { debugs.emplace_back(message); }
    void progress(std::string_view /*label*/, std::uint64_t /*done*/,
                  std::uint64_t /*total*/) override {}

    std::vector<std::string> debugs;
};

/// Milliseconds between two requests the server saw.
long gap_ms(const Seen& before, const Seen& after) {
    return static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(after.at - before.at).count());
}

class Http : public test::ScratchTest {
protected:
    /// Starts a server that answers with `handler`.
    LoopbackServer& serve(LoopbackServer::Handler handler) {
        m_server = std::make_unique<LoopbackServer>(std::move(handler));
        return *m_server;
    }

    std::unique_ptr<LoopbackServer> m_server;
    HttpOptions m_options{.retry = RetryPolicy{4, 10ms}};
};

TEST_F(Http, EachMethodSendsItsHeadersAndBodyAndReadsTheAnswersHeaders) {
    auto& server = serve([](const Seen& request, std::size_t /*index*/) {
        Answer answer{201,
                      {{"Location", "/v2/app/blobs/uploads/1"},
                       {"Docker-Content-Digest", "sha256:abc"},
                       {"Range", "0-9"}},
                      fmt::format("{} {}", request.method, request.body)};
        return answer;
    });
    const auto file = write("blob", "0123456789abcdefghij");
    HttpClient http(m_options);
    const struct {
        HttpMethod method;
        RequestBody body;
        std::string expected_method;
        std::string expected_body;
    } cases[] = {
        {HttpMethod::get, {}, "GET", ""},
        {HttpMethod::head, {}, "HEAD", ""},
        {HttpMethod::put, std::string("manifest bytes"), "PUT", "manifest bytes"},
        {HttpMethod::post, std::string(), "POST", ""},
        {HttpMethod::post, FileRange{file, 0, 20}, "POST", "0123456789abcdefghij"},
        {HttpMethod::patch, FileRange{file, 5, 10}, "PATCH", "56789abcde"},
        {HttpMethod::put, FileRange{file, 15, 5}, "PUT", "fghij"},
    };
    for (const auto& c : cases) {
        HttpRequest request{server.url("/v2/app/blobs/uploads/"), {}, {}};
        request.method = c.method;
        request.headers = {{"Content-Type", "application/octet-stream"}, {"X-Test", "yes"}};
        request.body = c.body;
        Collected collected;
        const auto response = http.send(request, collected.sink);
        SCOPED_TRACE(c.expected_method + " " + c.expected_body);
        EXPECT_EQ(response.status, 201);
        EXPECT_EQ(response.header("location"), "/v2/app/blobs/uploads/1");
        EXPECT_EQ(response.header("DOCKER-CONTENT-DIGEST"), "sha256:abc");
        EXPECT_EQ(response.header("Range"), "0-9");
        EXPECT_EQ(response.header("WWW-Authenticate"), std::nullopt);
        const auto seen = server.seen().back();
        EXPECT_EQ(seen.method, c.expected_method);
        EXPECT_EQ(seen.target, "/v2/app/blobs/uploads/");
        EXPECT_EQ(seen.body, c.expected_body);
        EXPECT_EQ(seen.header("X-Test"), "yes");
        EXPECT_EQ(seen.header("Content-Type"), "application/octet-stream");
        if (c.method != HttpMethod::get && c.method != HttpMethod::head) {
            EXPECT_EQ(seen.header("Content-Length"), std::to_string(c.expected_body.size()));
        }
        const std::string body =
            c.method == HttpMethod::head ? "" : c.expected_method + " " + c.expected_body;
        EXPECT_EQ(collected.body, body);
        EXPECT_EQ(response.bytes, body.size());
    }
    EXPECT_EQ(server.seen().size(), std::size(cases));
}

TEST_F(Http, ABigFileBodyIsStreamedWhole) {
    auto& server = serve([](const Seen& request, std::size_t /*index*/) {
        return Answer{202, {{"Docker-Content-Digest", "sha256:" + core::sha256_hex(request.body)}}};
    });
    std::string content;
    while (content.size() < 3U << 20U) {
        content += fmt::format("line {}\n", content.size());
    }
    const auto file = write("big", content);
    HttpClient http(m_options);
    HttpRequest request{server.url("/upload"), {}, {}};
    request.method = HttpMethod::put;
    request.body = FileRange{file, 0, content.size()};
    const auto response = http.send(request);
    EXPECT_EQ(response.status, 202);
    EXPECT_EQ(response.header("Docker-Content-Digest"), "sha256:" + core::sha256_hex(content));
}

TEST_F(Http, AConditionalGetAnsweredNotModifiedHasNoBody) {
    auto& server = serve([](const Seen& request, std::size_t /*index*/) {
        if (request.header("If-None-Match") == "\"v1\"") {
            return Answer{304, {{"ETag", "\"v1\""}}};
        }
        return Answer{200,
                      {{"ETag", "\"v1\""}, {"Last-Modified", "Sat, 01 Jun 2024 10:00:00 GMT"}},
                      "content"};
    });
    HttpClient http(m_options);
    Collected first;
    const auto fresh = http.get(HttpRequest{server.url("/InRelease"), {}, {}}, first.sink);
    EXPECT_EQ(fresh.status, 200);
    EXPECT_EQ(fresh.etag, "\"v1\"");
    EXPECT_EQ(fresh.last_modified, "Sat, 01 Jun 2024 10:00:00 GMT");
    EXPECT_EQ(first.body, "content");
    Collected second;
    const auto cached = http.get(
        HttpRequest{server.url("/InRelease"), fresh.etag, fresh.last_modified}, second.sink);
    EXPECT_EQ(cached.status, 304);
    EXPECT_EQ(second.body, "");
    EXPECT_EQ(server.seen().back().header("If-Modified-Since"), fresh.last_modified);
}

TEST_F(Http, AnErrorPageNeverReachesTheSink) {
    auto& server = serve([](const Seen& /*request*/, std::size_t /*index*/) {
        return Answer{404, {}, R"({"errors":[{"code":"BLOB_UNKNOWN"}]})"};
    });
    HttpClient http(m_options);
    Collected collected;
    try {
        (void)http.get(HttpRequest{server.url("/missing"), {}, {}}, collected.sink);
        FAIL() << "a 404 was not reported";
    } catch (const NetworkError& e) {
        EXPECT_EQ(e.what(), server.url("/missing") + ": server answered HTTP 404");
        EXPECT_EQ(e.http_status(), 404);
        EXPECT_EQ(e.exit_code(), ExitCode::network);
    }
    EXPECT_EQ(collected.body, "");
    EXPECT_EQ(server.seen().size(), 1U) << "a 404 was retried";

    // On the engine, the handler sees the error's start (a registry's JSON error).
    HttpEngine engine(m_options);
    HttpResult outcome;
    engine.add(HttpTransfer{HttpRequest{server.url("/missing"), {}, {}}, collected.sink,
                            [&](HttpResult& result) {
                                outcome = std::move(result);
                            }});
    engine.run();
    EXPECT_FALSE(outcome.ok());
    EXPECT_TRUE(outcome.not_found);
    EXPECT_EQ(outcome.response.status, 404);
    EXPECT_THAT(outcome.response.error_body, HasSubstr("BLOB_UNKNOWN"));
    EXPECT_EQ(collected.body, "");
}

TEST_F(Http, TransientFailuresAreRetriedWithExponentialBackoff) {
    auto& server = serve([](const Seen& /*request*/, std::size_t index) {
        return index < 3 ? Answer{index == 0 ? 503 : 500, {}, "server error page"}
                         : Answer{200, {}, "content"};
    });
    RecordingReporter reporter;
    m_options.retry = RetryPolicy{4, 100ms};
    m_options.reporter = &reporter;
    HttpClient http(m_options);
    Collected collected;
    const auto response = http.get(HttpRequest{server.url("/flaky"), {}, {}}, collected.sink);
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(collected.body, "content");
    EXPECT_EQ(collected.restarts, 3);
    const auto seen = server.seen();
    ASSERT_EQ(seen.size(), 4U);
    EXPECT_GE(gap_ms(seen[0], seen[1]), 100);
    EXPECT_GE(gap_ms(seen[1], seen[2]), 200);
    EXPECT_GE(gap_ms(seen[2], seen[3]), 400);
    EXPECT_THAT(reporter.debugs,
                ElementsAre(HasSubstr("retrying in 100 ms"), HasSubstr("retrying in 200 ms"),
                            HasSubstr("retrying in 400 ms")));
}

TEST_F(Http, TooManyRequestsAndTimeoutsAreTransientButOtherClientErrorsAreNot) {
    EXPECT_TRUE(is_transient_failure(0, 429));
    EXPECT_TRUE(is_transient_failure(0, 408));
    EXPECT_TRUE(is_transient_failure(0, 502));
    EXPECT_FALSE(is_transient_failure(0, 404));
    EXPECT_FALSE(is_transient_failure(0, 401));
    EXPECT_FALSE(is_transient_failure(0, 200));
    auto& server = serve([](const Seen& /*request*/, std::size_t /*index*/) {
        return Answer{403, {}, "forbidden"};
    });
    HttpClient http(m_options);
    EXPECT_THROW((void)http.head(HttpRequest{server.url("/x"), {}, {}}), NetworkError);
    EXPECT_EQ(server.seen().size(), 1U);
}

TEST_F(Http, AFailureThatPersistsNamesTheUrlAndTheAttempts) {
    auto& server = serve([](const Seen& /*request*/, std::size_t /*index*/) {
        return Answer{502, {}, "bad gateway"};
    });
    m_options.retry.attempts = 3;
    HttpClient http(m_options);
    try {
        (void)http.send(HttpRequest{server.url("/down"), {}, {}});
        FAIL() << "a failing server was not reported";
    } catch (const NetworkError& e) {
        EXPECT_EQ(e.what(), server.url("/down") + ": server answered HTTP 502 (after 3 attempts)");
        EXPECT_EQ(e.http_status(), 502);
    }
    EXPECT_EQ(server.seen().size(), 3U);
}

TEST_F(Http, AStalledTransferIsAbortedByTheLowSpeedLimitAndRetried) {
    auto& server =
        serve([](const Seen& /*request*/, std::size_t /*index*/) { return Answer{.stall = true}; });
    m_options.retry = RetryPolicy{2, 10ms};
    m_options.low_speed_time = 1s;
    HttpClient http(m_options);
    Collected collected;
    const auto start = Clock::now();
    try {
        (void)http.get(HttpRequest{server.url("/stalled"), {}, {}}, collected.sink);
        FAIL() << "a stalled transfer was not aborted";
    } catch (const NetworkError& e) {
        EXPECT_THAT(e.what(), HasSubstr(server.url("/stalled") + ": "));
        EXPECT_THAT(e.what(), HasSubstr("(after 2 attempts)"));
        EXPECT_EQ(e.http_status(), 0);
    }
    const auto elapsed = Clock::now() - start;
    EXPECT_GE(elapsed, 2s);
    EXPECT_LT(elapsed, 5s);
    EXPECT_EQ(server.seen().size(), 2U);
}

TEST_F(Http, ARefusedConnectionIsRetriedAndNamed) {
    // A port that was just free: nothing listens there.
    std::string url;
    {
        const LoopbackServer gone(
            [](const Seen& /*request*/, std::size_t /*index*/) { return Answer{}; });
        url = gone.url("/nobody");
    }
    RecordingReporter reporter;
    m_options.retry = RetryPolicy{3, 10ms};
    m_options.reporter = &reporter;
    HttpClient http(m_options);
    try {
        (void)http.head(HttpRequest{url, {}, {}});
        FAIL() << "a refused connection was not reported";
    } catch (const NetworkError& e) {
        EXPECT_THAT(e.what(), HasSubstr(url + ": "));
        EXPECT_THAT(e.what(), HasSubstr("(after 3 attempts)"));
    }
    EXPECT_EQ(reporter.debugs.size(), 2U);
}

TEST_F(Http, RetryAfterInSecondsIsHonoured) {
    auto& server = serve([](const Seen& /*request*/, std::size_t index) {
        return index == 0 ? Answer{429, {{"Retry-After", "1"}}, "slow down"}
                          : Answer{200, {}, "content"};
    });
    m_options.retry = RetryPolicy{3, 1ms};
    HttpClient http(m_options);
    Collected collected;
    (void)http.get(HttpRequest{server.url("/limited"), {}, {}}, collected.sink);
    const auto seen = server.seen();
    ASSERT_EQ(seen.size(), 2U);
    EXPECT_GE(gap_ms(seen[0], seen[1]), 1000) << "the retry came before Retry-After said";
    EXPECT_LT(gap_ms(seen[0], seen[1]), 3000);
    EXPECT_EQ(collected.body, "content");
}

TEST_F(Http, RetryAfterAsAnHttpDateIsHonoured) {
    auto& server = serve([](const Seen& /*request*/, std::size_t index) {
        if (index > 0) {
            return Answer{200, {}, "content"};
        }
        // Two seconds ahead, rounded down to the second the date can say: 1 to 2 s of wait.
        const std::time_t when = std::time(nullptr) + 2;
        std::tm parts{};
        gmtime_r(&when, &parts);
        std::array<char, 64> date{};
        std::strftime(date.data(), date.size(), "%a, %d %b %Y %H:%M:%S GMT", &parts);
        return Answer{503, {{"Retry-After", date.data()}}, "maintenance"};
    });
    m_options.retry = RetryPolicy{3, 1ms};
    HttpClient http(m_options);
    Collected collected;
    (void)http.get(HttpRequest{server.url("/maintenance"), {}, {}}, collected.sink);
    const auto seen = server.seen();
    ASSERT_EQ(seen.size(), 2U);
    EXPECT_GE(gap_ms(seen[0], seen[1]), 900);
    EXPECT_LT(gap_ms(seen[0], seen[1]), 3500);
}

TEST_F(Http, ARetryAfterBeyondTheMaximumWaitsOnlyTheMaximum) {
    auto& server = serve([](const Seen& /*request*/, std::size_t index) {
        return index == 0 ? Answer{503, {{"Retry-After", "86400"}}, "come back tomorrow"}
                          : Answer{200, {}, "content"};
    });
    m_options.retry = RetryPolicy{3, 1ms, 300ms};
    HttpClient http(m_options);
    Collected collected;
    const auto start = Clock::now();
    (void)http.get(HttpRequest{server.url("/later"), {}, {}}, collected.sink);
    EXPECT_LT(Clock::now() - start, 2s);
    const auto seen = server.seen();
    ASSERT_EQ(seen.size(), 2U);
    EXPECT_GE(gap_ms(seen[0], seen[1]), 300);
}

TEST(HttpRetryAfter, ParsesSecondsAndDates) {
    const auto now = std::chrono::system_clock::from_time_t(1717236000); // 2024-06-01 10:00 UTC
    EXPECT_EQ(parse_retry_after("120", now), 120s);
    EXPECT_EQ(parse_retry_after(" 0 ", now), 0s);
    EXPECT_EQ(parse_retry_after("Sat, 01 Jun 2024 10:00:30 GMT", now), 30s);
    EXPECT_EQ(parse_retry_after("Sat, 01 Jun 2024 09:00:00 GMT", now), 0s) << "the past: no wait";
    EXPECT_EQ(parse_retry_after("soon", now), std::nullopt);
    EXPECT_EQ(parse_retry_after("12abc", now), std::nullopt);
    EXPECT_EQ(parse_retry_after("", now), std::nullopt);
    EXPECT_GT(parse_retry_after("99999999999999999999", now), 1000h) << "huge, not wrapped";
}

/// The token service's URL on the server that got `request`.
std::string token_realm(const Seen& request) {
    return fmt::format("http://{}/token", request.header("Host").value_or(""));
}

/// A test double for a registry's token service: no credentials at first; a challenge makes
/// it fetch a token from the realm the challenge names.
class TokenAuthenticator final : public Authenticator {
public:
    std::optional<std::string> authorization(const HttpRequest& /*request*/) override {
        ++asked;
        return token.empty() ? std::nullopt : std::optional("Bearer " + token);
    }

    bool challenge(const HttpRequest& request, std::string_view www_authenticate) override {
        challenges.emplace_back(www_authenticate);
        challenged_urls.push_back(request.url);
        // Bearer realm="http://127.0.0.1:N/token",service="test",scope="repository:app:push"
        const auto realm_start = www_authenticate.find("realm=\"") + 7;
        const auto realm = www_authenticate.substr(
            realm_start, www_authenticate.find('"', realm_start) - realm_start);
        Collected answer;
        HttpClient tokens;
        (void)tokens.get(HttpRequest{std::string(realm), {}, {}}, answer.sink);
        token = answer.body;
        return !token.empty();
    }

    std::string token;
    int asked = 0;
    std::vector<std::string> challenges;
    std::vector<std::string> challenged_urls;
};

TEST_F(Http, A401ChallengeGetsATokenAndTheRequestIsSentOnceMore) {
    auto& server = serve([](const Seen& request, std::size_t /*index*/) {
        if (request.target == "/token") {
            return Answer{200, {}, "t0k3n"};
        }
        if (request.header("Authorization") != "Bearer t0k3n") {
            return Answer{
                401,
                {{"WWW-Authenticate",
                  fmt::format(R"(Bearer realm="{}",service="test",scope="repository:app:push")",
                              token_realm(request))}},
                R"({"errors":[{"code":"UNAUTHORIZED"}]})"};
        }
        return Answer{201, {{"Location", "/v2/app/manifests/latest"}}};
    });
    TokenAuthenticator authenticator;
    m_options.authenticator = &authenticator;
    HttpClient http(m_options);
    HttpRequest request{server.url("/v2/app/manifests/latest"), {}, {}};
    request.method = HttpMethod::put;
    request.headers = {{"Content-Type", "application/vnd.oci.image.manifest.v1+json"}};
    request.body = std::string(R"({"schemaVersion":2})");
    const auto response = http.send(request);
    EXPECT_EQ(response.status, 201);
    ASSERT_THAT(authenticator.challenges, ElementsAre(HasSubstr(R"(scope="repository:app:push")")));
    EXPECT_THAT(authenticator.challenged_urls, ElementsAre(request.url));
    const auto seen = server.seen();
    ASSERT_EQ(seen.size(), 3U);
    EXPECT_EQ(seen[0].header("Authorization"), std::nullopt);
    EXPECT_EQ(seen[1].target, "/token");
    EXPECT_EQ(seen[2].header("Authorization"), "Bearer t0k3n");
    EXPECT_EQ(seen[2].body, R"({"schemaVersion":2})") << "the body is sent again whole";

    // With the token, the next request needs no challenge.
    (void)http.send(request);
    EXPECT_EQ(server.seen().size(), 4U);
    EXPECT_EQ(authenticator.challenges.size(), 1U);
    EXPECT_EQ(authenticator.asked, 3);
}

TEST_F(Http, ASecond401IsAnErrorAfterOneChallenge) {
    auto& server = serve([](const Seen& request, std::size_t /*index*/) {
        if (request.target == "/token") {
            return Answer{200, {}, "not-good-enough"};
        }
        return Answer{401, {{"WWW-Authenticate", "Bearer realm=\"" + token_realm(request) + "\""}}};
    });
    TokenAuthenticator authenticator;
    m_options.authenticator = &authenticator;
    HttpClient http(m_options);
    const HttpRequest request{server.url("/v2/"), {}, {}};
    try {
        (void)http.head(request);
        FAIL() << "a refused token was not reported";
    } catch (const NetworkError& e) {
        EXPECT_EQ(e.http_status(), 401);
        EXPECT_THAT(e.what(), HasSubstr("server answered HTTP 401"));
    }
    EXPECT_EQ(authenticator.challenges.size(), 1U);
    EXPECT_EQ(server.seen().size(), 3U); // the request, the token, the request once more
}

TEST_F(Http, A401WithoutAnAuthenticatorIsAnError) {
    auto& server = serve([](const Seen& /*request*/, std::size_t /*index*/) {
        return Answer{401, {{"WWW-Authenticate", "Basic realm=\"x\""}}};
    });
    HttpClient http(m_options);
    EXPECT_THROW((void)http.head(HttpRequest{server.url("/private"), {}, {}}), NetworkError);
    EXPECT_EQ(server.seen().size(), 1U);
}

TEST_F(Http, AnAnswerLargerThanAllowedIsRefused) {
    auto& server = serve([](const Seen& request, std::size_t /*index*/) {
        return Answer{200, {}, std::string(5000, 'x'), {}, false, request.target == "/chunked"};
    });
    HttpClient http(m_options);
    for (const char* path : {"/sized", "/chunked"}) {
        SCOPED_TRACE(path);
        Collected collected;
        HttpRequest request{server.url(path), {}, {}};
        request.max_bytes = 4000;
        try {
            (void)http.get(request, collected.sink);
            FAIL() << "a too large answer was accepted";
        } catch (const NetworkError& e) {
            EXPECT_EQ(e.what(),
                      server.url(path) + ": the answer is larger than the 4000 bytes allowed");
        }
        EXPECT_LE(collected.body.size(), 4000U);
        request.max_bytes = 5000;
        collected.body.clear();
        (void)http.get(request, collected.sink);
        EXPECT_EQ(collected.body.size(), 5000U);
    }
    EXPECT_EQ(server.seen().size(), 4U) << "a too large answer was retried";
}

TEST_F(Http, TheEngineRunsNoMoreThanParallelTransfersAtOnce) {
    auto& server = serve([](const Seen& request, std::size_t /*index*/) {
        return Answer{200, {}, request.target, 150ms};
    });
    m_options.parallel = 3;
    HttpEngine engine(m_options);
    std::vector<std::string> bodies(9);
    for (std::size_t i = 0; i < bodies.size(); ++i) {
        engine.add(HttpTransfer{
            HttpRequest{server.url(fmt::format("/{}", i)), {}, {}},
            BodySink{{}, [&bodies, i](std::span<const std::byte> data) {
                         bodies[i].append(reinterpret_cast<const char*>(data.data()), data.size());
                     }}});
    }
    const auto start = Clock::now();
    engine.run();
    const auto elapsed = Clock::now() - start;
    for (std::size_t i = 0; i < bodies.size(); ++i) {
        EXPECT_EQ(bodies[i], fmt::format("/{}", i));
    }
    EXPECT_EQ(server.peak(), 3);
    EXPECT_GE(elapsed, 3 * 150ms) << "three rounds of three";
}

TEST_F(Http, ADoneHandlerCanQueueAnotherTransfer) {
    auto& server = serve([](const Seen& request, std::size_t /*index*/) {
        return request.target == "/old" ? Answer{404, {}, "gone"} : Answer{200, {}, "here"};
    });
    HttpEngine engine(m_options);
    Collected collected;
    std::vector<long> statuses;
    std::function<void(HttpResult&)> done = [&](HttpResult& result) {
        statuses.push_back(result.response.status);
        if (result.not_found) {
            engine.add(HttpTransfer{HttpRequest{server.url("/new"), {}, {}}, collected.sink, done});
        }
    };
    engine.add(HttpTransfer{HttpRequest{server.url("/old"), {}, {}}, collected.sink, done});
    engine.run();
    EXPECT_THAT(statuses, ElementsAre(404, 200));
    EXPECT_EQ(collected.body, "here");
}

TEST_F(Http, AFailureWithoutAHandlerEndsTheRunAndTheEngineCanGoOn) {
    auto& server = serve([](const Seen& request, std::size_t /*index*/) {
        return request.target == "/bad"
                   ? Answer{410, {}, "gone"}
                   : Answer{200, {}, "fine", request.target == "/slow" ? 2s : 0ms};
    });
    HttpEngine engine(m_options);
    engine.add(HttpTransfer{HttpRequest{server.url("/slow"), {}, {}}});
    engine.add(HttpTransfer{HttpRequest{server.url("/bad"), {}, {}}});
    const auto start = Clock::now();
    EXPECT_THROW(engine.run(), NetworkError);
    EXPECT_LT(Clock::now() - start, 1500ms) << "the error waited for the other transfer";
    Collected collected;
    engine.add(HttpTransfer{HttpRequest{server.url("/good"), {}, {}}, collected.sink});
    engine.run();
    EXPECT_EQ(collected.body, "fine");
}

TEST_F(Http, FileUrlsAreReadButNeverWritten) {
    const auto file = write("local.txt", "local content");
    HttpClient http(m_options);
    Collected collected;
    const auto response = http.get(HttpRequest{"file://" + file.string(), {}, {}}, collected.sink);
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(collected.body, "local content");
    HttpRequest upload{"file://" + (scratch() / "written.txt").string(), {}, {}};
    upload.method = HttpMethod::put;
    upload.body = std::string("must not land");
    EXPECT_THROW((void)http.send(upload), NetworkError);
    EXPECT_FALSE(std::filesystem::exists(scratch() / "written.txt"));
}

/// Runs `request` in a child process (cancellation cannot be undone in a process) while
/// another thread calls request_cancel() after 300 ms; the child exits 0 when the request
/// ended with "interrupted" within a second of the cancel, and says how soon on stderr.
/// Returns that line.
std::string interrupt_in_child(const std::function<void()>& request) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    std::string said;
    EXPECT_EXIT(
        {
            std::atomic<std::int64_t> cancelled_at{0};
            std::thread canceller([&] {
                std::this_thread::sleep_for(300ms);
                cancelled_at = Clock::now().time_since_epoch().count();
                request_cancel(); // as the CLI's signal handler does
            });
            int code = 2;
            try {
                request();
            } catch (const Error& e) {
                const auto after = Clock::now() - Clock::time_point(Clock::duration(cancelled_at));
                const auto ms =
                    std::chrono::duration_cast<std::chrono::milliseconds>(after).count();
                std::fprintf(stderr, "%s %lld ms after request_cancel()\n", e.what(),
                             static_cast<long long>(ms));
                code = std::string_view(e.what()) == "interrupted" && after < 1s ? 0 : 1;
            }
            canceller.join();
            std::_Exit(code);
        },
        ::testing::ExitedWithCode(0), ::testing::Truly([&said](const std::string& text) {
            said = text;
            return text.find("interrupted") != std::string::npos;
        }));
    return said;
}

// Plain tests, without a scratch directory: the child that runs the request ends with _Exit
// and would leave its own behind.
TEST(HttpCancel, ARequestToAStalledServerStopsSoonAfterCancellation) {
    const LoopbackServer server(
        [](const Seen& /*request*/, std::size_t /*index*/) { return Answer{.stall = true}; });
    const auto said = interrupt_in_child([&] {
        HttpClient http;
        Collected collected;
        (void)http.get(HttpRequest{server.url("/stalled"), {}, {}}, collected.sink);
    });
    std::cout << "[ figure ] stalled GET: " << said;
    EXPECT_THAT(said, HasSubstr("interrupted"));
}

TEST(HttpCancel, AWaitBeforeARetryStopsSoonAfterCancellation) {
    const LoopbackServer server([](const Seen& /*request*/, std::size_t /*index*/) {
        return Answer{503, {{"Retry-After", "30"}}, "busy"};
    });
    const auto said = interrupt_in_child([&] {
        HttpClient http;
        (void)http.head(HttpRequest{server.url("/busy"), {}, {}});
    });
    std::cout << "[ figure ] Retry-After wait: " << said;
    EXPECT_THAT(said, HasSubstr("interrupted"));
}

} // namespace
} // namespace distill::core
