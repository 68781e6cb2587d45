// The parallel downloader over file:// URLs (the HTTP behaviour, retries and parallelism are
// shown by the integration tests against a loopback server).

#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <distill/core/digest.hpp>
#include <distill/core/fs.hpp>
#include <distill/fetch/fetch.hpp>

#include "support.hpp"

namespace distill::fetch {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class Fetch : public test::ScratchTest {
protected:
    Download file(const std::string& name, const std::string& content) const {
        const auto path = write("mirror/" + name, content);
        return Download{
            name, {"file://" + path.string()}, core::sha256_hex(content), content.size()};
    }

    [[nodiscard]] std::vector<std::string> cache_files() const {
        std::vector<std::string> names;
        if (fs::exists(scratch() / "cache")) {
            for (const auto& item : fs::recursive_directory_iterator(scratch() / "cache")) {
                if (item.is_regular_file()) {
                    names.push_back(item.path().filename().string());
                }
            }
        }
        return names;
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
    EXPECT_THAT(cache_files(), ::testing::IsEmpty());
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
    EXPECT_THAT(cache_files(), ::testing::IsEmpty());
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

TEST_F(Fetch, NoUrlAtAllIsAnError) {
    const Download nowhere{"orphan 1.0", {}, std::string(64, '1'), 1};
    EXPECT_THROW((void)fetch_all({nowhere}, m_cache, m_options, m_reporter), Error);
}

} // namespace
} // namespace distill::fetch
