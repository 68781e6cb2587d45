// The parallel downloader: over file:// URLs, and over HTTP against a loopback server
// (tests/support/fetch_test_server.py) that can be told to fail, cut, corrupt or delay a path
// and counts the requests it gets.

#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <memory>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string>
#include <string_view>
#include <sys/wait.h>
#include <tuple>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <distill/core/cancel.hpp>
#include <distill/core/digest.hpp>
#include <distill/core/download.hpp>
#include <distill/core/fs.hpp>
#include <distill/core/http.hpp>
#include <distill/fetch/fetch.hpp>

#include "support.hpp"

extern char** environ;

namespace distill::fetch {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

/// Every regular file under the cache, temporary ones included.
std::vector<std::string> files_under(const fs::path& root) {
    std::vector<std::string> names;
    if (fs::exists(root)) {
        for (const auto& item : fs::recursive_directory_iterator(root)) {
            if (item.is_regular_file()) {
                names.push_back(item.path().filename().string());
            }
        }
    }
    return names;
}

/// Content that differs per index and is big enough to take more than one read.
std::string package_content(std::size_t index, std::size_t bytes = 20000) {
    std::string content;
    while (content.size() < bytes) {
        content += fmt::format("package {} line {}\n", index, content.size());
    }
    return content;
}

/// Remembers what was reported.
class RecordingReporter final : public core::Reporter {
public:
    void stage(std::string_view /*name*/) override {}
    void info(std::string_view /*message*/) override {}
    void warning(std::string_view /*message*/) override {}
    void debug(std::string_view message) override { debugs.emplace_back(message); }
    void progress(std::string_view label, std::uint64_t done, std::uint64_t total) override {
        progresses.emplace_back(label, done, total);
    }

    std::vector<std::string> debugs;
    std::vector<std::tuple<std::string, std::uint64_t, std::uint64_t>> progresses;
};

class Fetch : public test::ScratchTest {
protected:
    Download file(const std::string& name, const std::string& content) const {
        const auto path = write("mirror/" + name, content);
        return Download{
            name, {"file://" + path.string()}, core::sha256_hex(content), content.size()};
    }

    [[nodiscard]] std::vector<std::string> cache_files() const {
        return files_under(scratch() / "cache");
    }

    core::Cache m_cache{scratch() / "cache"};
    core::NullReporter m_reporter;
    Options m_options{4, core::RetryPolicy{2, std::chrono::milliseconds(1)}};
};

TEST_F(Fetch, ManyFilesAreFetchedVerifiedAndThenCached) {
    std::vector<Download> downloads;
    for (std::size_t i = 0; i < 20; ++i) {
        downloads.push_back(
            file(fmt::format("p{}.deb", i), std::string(1000 + i, static_cast<char>('a' + i))));
    }
    downloads.push_back(downloads.front()); // the same blob twice
    const auto first = fetch_all(downloads, m_cache, m_options, m_reporter);
    EXPECT_EQ(first.downloaded, 20);
    EXPECT_EQ(first.cached, 0);
    ASSERT_EQ(first.paths.size(), 21U);
    for (std::size_t i = 0; i < downloads.size(); ++i) {
        EXPECT_EQ(core::file_hex_digest(first.paths[i]), downloads[i].sha256);
    }
    const auto second = fetch_all(downloads, m_cache, m_options, m_reporter);
    EXPECT_EQ(second.downloaded, 0);
    EXPECT_EQ(second.cached, 20);
    EXPECT_EQ(second.bytes, 0U);
}

TEST_F(Fetch, AWrongHashIsAVerificationErrorAndLeavesNothing) {
    auto download = file("evil.deb", "what the mirror serves");
    download.sha256 = core::sha256_hex("what the index promised");
    download.size = std::string("what the mirror serves").size();
    try {
        (void)fetch_all({download}, m_cache, m_options, m_reporter);
        FAIL() << "a wrong hash was accepted";
    } catch (const VerificationError& e) {
        EXPECT_THAT(e.what(), HasSubstr("evil.deb: file://"));
        EXPECT_THAT(e.what(), HasSubstr("sha256 mismatch: expected " + download.sha256));
    }
    EXPECT_THAT(cache_files(), IsEmpty());
}

TEST_F(Fetch, ALongerFileIsRefusedWhileItStreams) {
    auto download = file("big.deb", std::string(100000, 'x'));
    download.size = 10;
    try {
        (void)fetch_all({download}, m_cache, m_options, m_reporter);
        FAIL() << "a file larger than promised was accepted";
    } catch (const VerificationError& e) {
        EXPECT_THAT(e.what(), HasSubstr("larger than the 10 bytes the verified index promises"));
    }
    EXPECT_THAT(cache_files(), IsEmpty());
}

TEST_F(Fetch, AShorterFileIsASizeMismatch) {
    auto download = file("short.deb", "tiny");
    download.size = 5;
    EXPECT_THROW((void)fetch_all({download}, m_cache, m_options, m_reporter), VerificationError);
}

TEST_F(Fetch, AMissingFileIsANetworkErrorNamingTheUrl) {
    const Download missing{
        "gone.deb", {"file://" + (scratch() / "nowhere.deb").string()}, std::string(64, '0'), 10};
    try {
        (void)fetch_all({file("ok.deb", "fine"), missing}, m_cache, m_options, m_reporter);
        FAIL() << "a missing file was not reported";
    } catch (const core::NetworkError& e) {
        EXPECT_THAT(e.what(), HasSubstr("gone.deb: file://"));
        EXPECT_THAT(e.what(), HasSubstr("nowhere.deb"));
        EXPECT_EQ(e.exit_code(), ExitCode::network);
    }
}

TEST_F(Fetch, AMissingFileFallsBackToTheNextUrl) {
    auto download = file("here.deb", "content");
    download.urls.insert(download.urls.begin(), "file://" + (scratch() / "nowhere.deb").string());
    const auto result = fetch_all({download}, m_cache, m_options, m_reporter);
    EXPECT_EQ(result.downloaded, 1);
    EXPECT_EQ(core::read_file(result.paths.at(0)), "content");
}

TEST_F(Fetch, NoUrlAtAllIsAnError) {
    const Download nowhere{"orphan 1.0", {}, std::string(64, '1'), 1};
    EXPECT_THROW((void)fetch_all({nowhere}, m_cache, m_options, m_reporter), Error);
}

TEST_F(Fetch, AHashThatIsNotASha256IsRefusedBeforeAnyTransfer) {
    auto download = file("odd.deb", "content");
    download.sha256 = "../../elsewhere";
    try {
        (void)fetch_all({download}, m_cache, m_options, m_reporter);
        FAIL() << "a malformed hash was accepted";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("odd.deb: `../../elsewhere` is not a SHA-256"));
    }
    EXPECT_THAT(cache_files(), IsEmpty());
}

TEST_F(Fetch, ParallelBelowOneStillFetches) {
    m_options.parallel = 0;
    const auto result =
        fetch_all({file("a.deb", "a"), file("b.deb", "b")}, m_cache, m_options, m_reporter);
    EXPECT_EQ(result.downloaded, 2);
}

TEST_F(Fetch, ProgressCountsUpToEveryByte) {
    RecordingReporter reporter;
    std::vector<Download> downloads;
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < 5; ++i) {
        downloads.push_back(file(fmt::format("p{}.deb", i), package_content(i)));
        total += downloads.back().size;
    }
    (void)fetch_all(downloads, m_cache, m_options, reporter);
    ASSERT_FALSE(reporter.progresses.empty());
    for (const auto& [label, done, all] : reporter.progresses) {
        EXPECT_EQ(label, "downloading");
        EXPECT_EQ(all, total);
        EXPECT_LE(done, total);
    }
    EXPECT_EQ(std::get<1>(reporter.progresses.back()), total);
}

/// tests/support/fetch_test_server.py in a child process, serving a directory on 127.0.0.1.
/// The destructor stops and reaps it, so a failing test does not leave it behind; should this
/// process die without that, the server sees its standard input close and exits on its own.
class TestServer {
public:
    explicit TestServer(const fs::path& root) {
        const auto script =
            fs::path(__FILE__).parent_path().parent_path() / "support" / "fetch_test_server.py";
        std::array<int, 2> to_child{-1, -1};
        std::array<int, 2> from_child{-1, -1};
        if (::pipe2(to_child.data(), O_CLOEXEC) != 0 ||
            ::pipe2(from_child.data(), O_CLOEXEC) != 0) {
            m_failure = fmt::format("pipe: {}", std::strerror(errno));
            return;
        }
        const core::Fd child_stdin(to_child[0]);
        const core::Fd child_stdout(from_child[1]);
        m_stdin = core::Fd(to_child[1]);
        m_stdout = core::Fd(from_child[0]);

        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, child_stdin.get(), 0);
        posix_spawn_file_actions_adddup2(&actions, child_stdout.get(), 1);
        std::string program = "python3";
        std::string script_arg = script.string();
        std::string root_arg = root.string();
        std::array<char*, 4> argv{program.data(), script_arg.data(), root_arg.data(), nullptr};
        const int rc =
            ::posix_spawnp(&m_pid, program.c_str(), &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        if (rc != 0) {
            m_pid = -1;
            m_failure = fmt::format("cannot start python3 {}: {}", script_arg, std::strerror(rc));
            return;
        }
        read_port(script_arg);
    }

    ~TestServer() {
        if (m_pid > 0) {
            ::kill(m_pid, SIGTERM);
            ::waitpid(m_pid, nullptr, 0);
        }
    }

    TestServer(const TestServer&) = delete;
    TestServer& operator=(const TestServer&) = delete;

    /// Why the server could not start; empty when it runs.
    [[nodiscard]] const std::string& failure() const { return m_failure; }

    /// The URL of `path` ("/a.deb") on the server.
    [[nodiscard]] std::string url(std::string_view path) const {
        return fmt::format("http://127.0.0.1:{}{}", m_port, path);
    }

    /// Sets the rule for `path`: `query` as in the script ("status=500&times=2").
    void rule(std::string_view path, std::string_view query) const {
        (void)control(fmt::format("rule?path={}&{}", path, query));
    }
    /// How many requests `path` had.
    [[nodiscard]] int count(std::string_view path) const {
        return number(control(fmt::format("count?path={}", path)));
    }
    /// How many requests all paths had.
    [[nodiscard]] int total() const { return number(control("total")); }
    /// The most requests in flight at once.
    [[nodiscard]] int peak() const { return number(control("peak")); }
    /// The paths requested, in order.
    [[nodiscard]] std::vector<std::string> log() const {
        std::vector<std::string> paths;
        const std::string text = control("log");
        std::size_t start = 0;
        for (std::size_t end = text.find('\n'); end != std::string::npos;
             start = end + 1, end = text.find('\n', start)) {
            paths.push_back(text.substr(start, end - start));
        }
        return paths;
    }

private:
    void read_port(const std::string& script) {
        std::string line;
        const auto deadline = Clock::now() + 10s;
        while (line.find('\n') == std::string::npos) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (left.count() <= 0) {
                m_failure = fmt::format("python3 {} did not print its port in time", script);
                return;
            }
            pollfd readable{m_stdout.get(), POLLIN, 0};
            if (::poll(&readable, 1, static_cast<int>(left.count())) <= 0) {
                continue;
            }
            std::array<char, 64> buffer{};
            const ssize_t got = ::read(m_stdout.get(), buffer.data(), buffer.size());
            if (got <= 0) {
                m_failure = fmt::format("python3 {} exited before printing its port", script);
                return;
            }
            line.append(buffer.data(), static_cast<std::size_t>(got));
        }
        const auto [end, error] = std::from_chars(line.data(), line.data() + line.size(), m_port);
        if (error != std::errc{} || m_port <= 0) {
            m_failure = fmt::format("python3 {} printed `{}`, not a port", script, line);
        }
    }

    [[nodiscard]] std::string control(const std::string& request) const {
        std::string body;
        const core::BodySink sink{[&] { body.clear(); },
                                  [&](std::span<const std::byte> data) {
                                      body.append(reinterpret_cast<const char*>(data.data()),
                                                  data.size());
                                  }};
        core::HttpClient http(core::RetryPolicy{1, 0ms});
        (void)http.get(core::HttpRequest{url("/_control/" + request), {}, {}}, sink);
        return body;
    }

    static int number(const std::string& text) {
        int value = -1;
        std::from_chars(text.data(), text.data() + text.size(), value);
        return value;
    }

    pid_t m_pid = -1;
    int m_port = 0;
    core::Fd m_stdin;  ///< held open: the server exits when it closes
    core::Fd m_stdout; ///< its first line is the port
    std::string m_failure;
};

class FetchHttp : public test::ScratchTest {
protected:
    void SetUp() override {
        fs::create_directories(scratch() / "www");
        m_server = std::make_unique<TestServer>(scratch() / "www");
        if (!m_server->failure().empty()) {
            DISTILL_SKIP_OR_FAIL("no test server: " << m_server->failure());
        }
    }

    /// Puts `content` on the server as /`name` and returns its download.
    Download serve(const std::string& name, const std::string& content) const {
        (void)write("www/" + name, content);
        return Download{fmt::format("{} 1.0-1", name),
                        {m_server->url("/" + name)},
                        core::sha256_hex(content),
                        content.size()};
    }

    /// `count` packages slow{i}.deb that the server answers after `delay` seconds each.
    std::vector<Download> slow_downloads(std::size_t count, const std::string& delay) const {
        std::vector<Download> downloads;
        for (std::size_t i = 0; i < count; ++i) {
            const auto name = fmt::format("slow{}.deb", i);
            downloads.push_back(serve(name, package_content(i)));
            m_server->rule("/" + name, "delay=" + delay);
        }
        return downloads;
    }

    [[nodiscard]] std::vector<std::string> cache_files() const {
        return files_under(scratch() / "cache");
    }

    std::unique_ptr<TestServer> m_server;
    core::Cache m_cache{scratch() / "cache"};
    core::NullReporter m_reporter;
    Options m_options{8, core::RetryPolicy{4, 10ms}};
};

TEST_F(FetchHttp, TwentyFilesAreFetchedInParallelAndASecondRunMakesNoRequest) {
    std::vector<Download> downloads;
    std::uint64_t bytes = 0;
    for (std::size_t i = 0; i < 20; ++i) {
        downloads.push_back(serve(fmt::format("p{}.deb", i), package_content(i, 20000 + i)));
        bytes += downloads.back().size;
    }
    downloads.push_back(downloads.at(3)); // the same blob again: one transfer

    const auto first = fetch_all(downloads, m_cache, m_options, m_reporter);
    EXPECT_EQ(first.downloaded, 20);
    EXPECT_EQ(first.cached, 0);
    EXPECT_EQ(first.bytes, bytes);
    ASSERT_EQ(first.paths.size(), downloads.size());
    for (std::size_t i = 0; i < downloads.size(); ++i) {
        EXPECT_EQ(first.paths[i], m_cache.blob_path(downloads[i].sha256));
        EXPECT_EQ(core::file_hex_digest(first.paths[i]), downloads[i].sha256);
    }
    for (std::size_t i = 0; i < 20; ++i) {
        EXPECT_EQ(m_server->count(fmt::format("/p{}.deb", i)), 1) << "p" << i;
    }
    EXPECT_EQ(m_server->total(), 20);
    EXPECT_LE(m_server->peak(), 8);
    EXPECT_EQ(files_under(scratch() / "cache").size(), 20U); // blobs only, no temporary files

    const auto second = fetch_all(downloads, m_cache, m_options, m_reporter);
    EXPECT_EQ(second.downloaded, 0);
    EXPECT_EQ(second.cached, 20);
    EXPECT_EQ(second.bytes, 0U);
    EXPECT_EQ(second.paths, first.paths);
    EXPECT_EQ(m_server->total(), 20) << "a cached blob was requested again";
}

TEST_F(FetchHttp, TransfersOverlap) {
    auto downloads = slow_downloads(8, "0.3");
    const auto start = Clock::now();
    const auto result = fetch_all(downloads, m_cache, m_options, m_reporter);
    const auto elapsed = Clock::now() - start;
    EXPECT_EQ(result.downloaded, 8);
    // One after another they would take 8 × 300 ms; a loose bound, not a benchmark.
    EXPECT_LT(elapsed, 4 * 300ms);
    EXPECT_GT(m_server->peak(), 1);
}

TEST_F(FetchHttp, NoMoreThanParallelTransfersRunAtOnce) {
    auto downloads = slow_downloads(6, "0.1");
    m_options.parallel = 2;
    const auto result = fetch_all(downloads, m_cache, m_options, m_reporter);
    EXPECT_EQ(result.downloaded, 6);
    EXPECT_EQ(m_server->peak(), 2);
}

TEST_F(FetchHttp, WaitingForAFreeSlotDoesNotSpin) {
    // Two transfers one at a time, each answered after a second: two seconds in which the
    // downloader has nothing to do but wait, for the server and then for the free slot.
    auto downloads = slow_downloads(2, "1");
    m_options.parallel = 1;
    const auto cpu_start = std::clock(); // this process's CPU time, all threads
    const auto start = Clock::now();
    (void)fetch_all(downloads, m_cache, m_options, m_reporter);
    const auto cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
    const auto wall = std::chrono::duration<double>(Clock::now() - start).count();
    ASSERT_GE(wall, 2.0) << "the server did not hold the answers back";
    // Waiting in poll() costs a wake-up every 100 ms at most: milliseconds in all, also under
    // the sanitizers. A loop that polled without blocking would burn CPU all along; even on a
    // machine so loaded that it got a fifth of a core, that is twice this bound. Load stretches
    // the wall time, not the CPU time of a process that waits.
    EXPECT_LT(cpu, wall / 10) << "CPU " << cpu << " s in " << wall << " s";
}

TEST_F(FetchHttp, AServerErrorIsRetriedUntilItSucceeds) {
    // Smaller than the server's error page, which must not be taken for the file.
    const auto download = serve("flaky.deb", "small");
    m_server->rule("/flaky.deb", "status=500&times=2");
    RecordingReporter reporter;
    const auto result = fetch_all({download}, m_cache, m_options, reporter);
    EXPECT_EQ(result.downloaded, 1);
    EXPECT_EQ(core::read_file(result.paths.at(0)), "small");
    EXPECT_EQ(m_server->count("/flaky.deb"), 3);
    EXPECT_THAT(reporter.debugs,
                ElementsAre(HasSubstr("retrying in 10 ms"), HasSubstr("retrying in 20 ms")));
}

TEST_F(FetchHttp, ADroppedConnectionIsRetried) {
    const auto download = serve("cut.deb", package_content(1, 100000));
    m_server->rule("/cut.deb", "drop=1&times=1");
    const auto result = fetch_all({download}, m_cache, m_options, m_reporter);
    EXPECT_EQ(result.downloaded, 1);
    EXPECT_EQ(result.bytes, download.size);
    EXPECT_EQ(core::file_hex_digest(result.paths.at(0)), download.sha256);
    EXPECT_EQ(m_server->count("/cut.deb"), 2);
}

TEST_F(FetchHttp, ARetryWaitsWithoutHoldingUpTheOtherTransfers) {
    std::vector<Download> downloads{serve("flaky.deb", "flaky")};
    for (std::size_t i = 0; i < 3; ++i) {
        downloads.push_back(serve(fmt::format("p{}.deb", i), package_content(i)));
    }
    m_server->rule("/flaky.deb", "status=503&times=2");
    m_options.parallel = 1;
    m_options.retry.first_delay = 200ms;
    const auto result = fetch_all(downloads, m_cache, m_options, m_reporter);
    EXPECT_EQ(result.downloaded, 4);
    // With one slot, the others go while the failed one waits for its retry.
    EXPECT_THAT(m_server->log(), ElementsAre("/flaky.deb", "/p0.deb", "/p1.deb", "/p2.deb",
                                             "/flaky.deb", "/flaky.deb"));
}

TEST_F(FetchHttp, AServerErrorThatPersistsIsANetworkErrorAfterTheRetries) {
    const auto download = serve("down.deb", "content");
    m_server->rule("/down.deb", "status=503");
    m_options.retry.attempts = 3;
    try {
        (void)fetch_all({download}, m_cache, m_options, m_reporter);
        FAIL() << "a failing server was not reported";
    } catch (const core::NetworkError& e) {
        EXPECT_THAT(e.what(), HasSubstr(download.urls.at(0) + ": server answered HTTP 503"));
        EXPECT_THAT(e.what(), HasSubstr("after 3 attempts"));
        EXPECT_EQ(e.http_status(), 503);
        EXPECT_EQ(e.exit_code(), ExitCode::network);
    }
    EXPECT_EQ(m_server->count("/down.deb"), 3);
    EXPECT_THAT(cache_files(), IsEmpty());
}

TEST_F(FetchHttp, AWrongHashIsAVerificationErrorAfterOneRequestAndLeavesNothing) {
    const std::string content = package_content(7);
    const auto download = serve("evil.deb", content);
    m_server->rule("/evil.deb", "corrupt=1");
    std::string served = content;
    for (auto& byte : served) {
        byte = static_cast<char>(~static_cast<unsigned char>(byte));
    }
    try {
        (void)fetch_all({download}, m_cache, m_options, m_reporter);
        FAIL() << "a wrong hash was accepted";
    } catch (const VerificationError& e) {
        EXPECT_THAT(e.what(), HasSubstr("evil.deb 1.0-1: " + download.urls.at(0)));
        EXPECT_THAT(e.what(), HasSubstr("sha256 mismatch: expected " + download.sha256 + ", got " +
                                        core::sha256_hex(served)));
        EXPECT_EQ(e.exit_code(), ExitCode::verification);
    }
    EXPECT_EQ(m_server->count("/evil.deb"), 1) << "a verification failure was retried";
    EXPECT_FALSE(m_cache.has_blob(download.sha256));
    EXPECT_THAT(cache_files(), IsEmpty()) << "no blob and no temporary file";
}

TEST_F(FetchHttp, ASizeMismatchIsAVerificationError) {
    auto download = serve("short.deb", package_content(2));
    download.size += 10;
    try {
        (void)fetch_all({download}, m_cache, m_options, m_reporter);
        FAIL() << "a short file was accepted";
    } catch (const VerificationError& e) {
        EXPECT_THAT(e.what(), HasSubstr(download.urls.at(0) + ": size mismatch: expected " +
                                        std::to_string(download.size) + " bytes"));
    }
    EXPECT_EQ(m_server->count("/short.deb"), 1);
    EXPECT_THAT(cache_files(), IsEmpty());
}

TEST_F(FetchHttp, A404FallsBackToTheNextUrl) {
    auto download = serve("moved.deb", "tiny"); // smaller than the 404 page
    download.urls.insert(download.urls.begin(), m_server->url("/old/moved.deb"));
    const auto result = fetch_all({download}, m_cache, m_options, m_reporter);
    EXPECT_EQ(result.downloaded, 1);
    EXPECT_EQ(core::read_file(result.paths.at(0)), "tiny");
    EXPECT_EQ(m_server->count("/old/moved.deb"), 1) << "a 404 was retried";
    EXPECT_EQ(m_server->count("/moved.deb"), 1);
}

TEST_F(FetchHttp, TheSingleBlobDownloaderAlsoFallsBackPastAnErrorPage) {
    // core::fetch_blob (used for indexes) goes through HttpClient, which must not hand the
    // 404 page to the sink either: it is larger than the file and would fail the size check.
    const auto download = serve("index.xz", "tiny");
    core::HttpClient http(core::RetryPolicy{2, std::chrono::milliseconds(1)});
    const auto result = core::fetch_blob(
        http, m_cache,
        core::ExpectedBlob{
            {m_server->url("/old/index.xz"), download.urls.at(0)}, download.sha256, download.size});
    EXPECT_TRUE(result.downloaded);
    EXPECT_EQ(core::read_file(result.path), "tiny");
    EXPECT_EQ(m_server->count("/old/index.xz"), 1);
}

TEST_F(FetchHttp, APermanent404IsANetworkErrorNamingTheUrl) {
    const auto download = serve("gone.deb", "content");
    m_server->rule("/gone.deb", "status=404");
    try {
        (void)fetch_all({download}, m_cache, m_options, m_reporter);
        FAIL() << "a 404 was not reported";
    } catch (const core::NetworkError& e) {
        EXPECT_THAT(e.what(), HasSubstr("gone.deb 1.0-1: " + download.urls.at(0) +
                                        ": server answered HTTP 404"));
        EXPECT_EQ(e.http_status(), 404);
        EXPECT_EQ(e.exit_code(), ExitCode::network);
    }
    EXPECT_EQ(m_server->count("/gone.deb"), 1);
}

TEST_F(FetchHttp, TheFirstErrorStopsTheOtherTransfersAndLeavesNoTemporaryFiles) {
    auto downloads = slow_downloads(4, "3");
    downloads.push_back(serve("gone.deb", "content"));
    m_server->rule("/gone.deb", "status=404");
    const auto start = Clock::now();
    EXPECT_THROW((void)fetch_all(downloads, m_cache, m_options, m_reporter), core::NetworkError);
    EXPECT_LT(Clock::now() - start, 2s) << "the error waited for the other transfers";
    EXPECT_EQ(m_server->total(), 5) << "every transfer had started";
    EXPECT_THAT(cache_files(), IsEmpty());
}

TEST_F(FetchHttp, CancellationStopsTheTransfersAndLeavesNoTemporaryFiles) {
    auto downloads = slow_downloads(4, "3");
    // Cancellation cannot be undone in a process: it is requested in a child.
    EXPECT_EXIT(
        {
            class CancellingReporter final : public core::Reporter {
            public:
                void stage(std::string_view /*name*/) override {}
                void info(std::string_view /*message*/) override {}
                void warning(std::string_view /*message*/) override {}
                void debug(std::string_view /*message*/) override {}
                void progress(std::string_view /*label*/, std::uint64_t /*done*/,
                              std::uint64_t /*total*/) override {
                    core::request_cancel(); // as the CLI's signal handler does
                }
            } reporter;
            const auto start = Clock::now();
            try {
                (void)fetch_all(downloads, m_cache, m_options, reporter);
            } catch (const Error& e) {
                const bool quick = Clock::now() - start < 2s;
                std::_Exit(std::string_view(e.what()) == "interrupted" && quick ? 0 : 1);
            }
            std::_Exit(2);
        },
        ::testing::ExitedWithCode(0), "");
    EXPECT_THAT(cache_files(), IsEmpty());
}

} // namespace
} // namespace distill::fetch
