// The cache: where blobs, URL records and derived data live, that a blob appears only whole and
// only once committed, and that concurrent writers of one name leave one whole file.

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <distill/core/cache.hpp>
#include <distill/core/digest.hpp>
#include <distill/core/error.hpp>
#include <distill/core/fs.hpp>

#include "support.hpp"

namespace distill::core {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

/// Every file under `root` (temporary ones included), relative to it.
std::vector<std::string> files_under(const fs::path& root) {
    std::vector<std::string> names;
    for (const auto& item : fs::recursive_directory_iterator(root)) {
        if (!item.is_directory()) {
            names.push_back(fs::relative(item.path(), root).string());
        }
    }
    std::sort(names.begin(), names.end());
    return names;
}

/// Sets an environment variable for one test and puts the old value back afterwards.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const char* value)
        : m_name(name) {
        if (const char* old = std::getenv(name); old != nullptr) {
            m_old = old;
        }
        if (value != nullptr) {
            ::setenv(name, value, 1);
        } else {
            ::unsetenv(name);
        }
    }
    ~ScopedEnv() {
        if (m_old) {
            ::setenv(m_name, m_old->c_str(), 1);
        } else {
            ::unsetenv(m_name);
        }
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    const char* m_name;
    std::optional<std::string> m_old;
};

class CoreCache : public test::ScratchTest {
protected:
    /// Stores `content` as a blob the way the downloaders do, and returns its SHA-256.
    std::string put_blob(const std::string& content) const {
        const auto sha256 = sha256_hex(content);
        auto file = m_cache.new_blob_file();
        file.write(content);
        file.commit(m_cache.blob_path(sha256));
        return sha256;
    }

    fs::path m_root = scratch() / "cache";
    Cache m_cache{m_root};
};

TEST_F(CoreCache, BlobsRecordsAndDerivedDataHaveFixedPlaces) {
    EXPECT_EQ(m_cache.root(), m_root);
    EXPECT_TRUE(fs::is_directory(m_root / "blobs" / "sha256")) << "made by the constructor";
    const std::string sha256(64, 'e');
    EXPECT_EQ(m_cache.blob_path(sha256), m_root / "blobs" / "sha256" / sha256);
    EXPECT_EQ(m_cache.derived_path("solv", "abc.solv"), m_root / "derived" / "solv" / "abc.solv");
    EXPECT_FALSE(fs::exists(m_root / "derived")) << "derived_path only names the place";
}

TEST_F(CoreCache, HasBlobOnlyForAFileNamedByALowercaseSha256) {
    const auto sha256 = sha256_hex("content");
    EXPECT_FALSE(m_cache.has_blob(sha256));
    EXPECT_EQ(put_blob("content"), sha256);
    EXPECT_TRUE(m_cache.has_blob(sha256));

    // Names that are not a SHA-256 are never blobs, even where such a file exists.
    auto upper = sha256;
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](char c) { return static_cast<char>(std::toupper(c)); });
    write_file_atomic(m_cache.blob_path(upper), "content");
    EXPECT_FALSE(m_cache.has_blob(upper));
    write_file_atomic(m_root / "outside", "content");
    EXPECT_FALSE(m_cache.has_blob("../../outside"));
    EXPECT_FALSE(m_cache.has_blob(sha256.substr(1)));
    EXPECT_FALSE(m_cache.has_blob(""));

    // A directory at a blob's place is not a blob.
    const auto other = sha256_hex("other");
    fs::create_directories(m_cache.blob_path(other));
    EXPECT_FALSE(m_cache.has_blob(other));
}

TEST_F(CoreCache, ABlobAppearsWholeAndOnlyOnCommit) {
    const std::string content(300000, 'x');
    const auto sha256 = sha256_hex(content);
    {
        auto file = m_cache.new_blob_file();
        file.write(content);
        EXPECT_EQ(file.temp_path().parent_path(), m_root / "blobs" / "sha256")
            << "beside the blobs, so that commit is a rename";
        EXPECT_FALSE(m_cache.has_blob(sha256));
        EXPECT_FALSE(m_cache.has_blob(file.temp_path().filename().string()));
        file.commit(m_cache.blob_path(sha256));
    }
    EXPECT_TRUE(m_cache.has_blob(sha256));
    EXPECT_EQ(read_file(m_cache.blob_path(sha256)), content);
    EXPECT_THAT(files_under(m_root), ElementsAre("blobs/sha256/" + sha256));
}

TEST_F(CoreCache, ABlobNeverCommittedLeavesNothing) {
    {
        auto file = m_cache.new_blob_file();
        file.write("half of what was promised");
        // No commit: a download that failed verification or was interrupted.
    }
    EXPECT_THAT(files_under(m_root), IsEmpty());
}

TEST_F(CoreCache, AUrlRecordComesBackAsStoredAndTheNewestWins) {
    const UrlRecord first{"http://127.0.0.1:1/dists/bookworm/InRelease", "\"etag-1\"",
                          "Sat, 11 Jul 2026 10:16:37 GMT", put_blob("release 1")};
    EXPECT_FALSE(m_cache.url_record(first.url).has_value());
    m_cache.store_url_record(first);
    EXPECT_TRUE(fs::is_regular_file(m_root / "urls" / (sha256_hex(first.url) + ".json")));
    auto read = m_cache.url_record(first.url);
    ASSERT_TRUE(read.has_value());
    EXPECT_EQ(read->url, first.url);
    EXPECT_EQ(read->etag, first.etag);
    EXPECT_EQ(read->last_modified, first.last_modified);
    EXPECT_EQ(read->sha256, first.sha256);

    const UrlRecord second{first.url, "\"etag-2\"", "", put_blob("release 2")};
    m_cache.store_url_record(second);
    read = m_cache.url_record(first.url);
    ASSERT_TRUE(read.has_value());
    EXPECT_EQ(read->etag, "\"etag-2\"");
    EXPECT_EQ(read->last_modified, "");
    EXPECT_EQ(read->sha256, second.sha256);

    EXPECT_FALSE(m_cache.url_record(first.url + "?other").has_value());
    // One record per URL, and no temporary file left beside it.
    EXPECT_THAT(files_under(m_root / "urls"), ElementsAre(sha256_hex(first.url) + ".json"));
}

TEST_F(CoreCache, AUrlRecordWithoutItsBlobIsNoRecord) {
    const UrlRecord record{"http://127.0.0.1:1/InRelease", "\"e\"", "", sha256_hex("gone")};
    m_cache.store_url_record(record);
    EXPECT_FALSE(m_cache.url_record(record.url).has_value());
    (void)put_blob("gone");
    EXPECT_TRUE(m_cache.url_record(record.url).has_value());
}

TEST_F(CoreCache, AnUnreadableOrForeignRecordIsNoRecord) {
    const std::string url = "http://127.0.0.1:1/InRelease";
    const auto path = m_root / "urls" / (sha256_hex(url) + ".json");
    const auto blob = put_blob("release");

    write_file_atomic(path, "{not json");
    EXPECT_FALSE(m_cache.url_record(url).has_value());
    write_file_atomic(path, R"({"url": ")" + url + R"("})"); // no sha256
    EXPECT_FALSE(m_cache.url_record(url).has_value());
    // A record under this URL's name that is about another URL.
    write_file_atomic(path,
                      R"({"url": "http://127.0.0.1:2/InRelease", "sha256": ")" + blob + R"("})");
    EXPECT_FALSE(m_cache.url_record(url).has_value());

    // And a good one replaces any of them.
    m_cache.store_url_record(UrlRecord{url, "", "", blob});
    EXPECT_TRUE(m_cache.url_record(url).has_value());
}

TEST_F(CoreCache, ConcurrentWritersOfOneBlobLeaveOneWholeFile) {
    // As several distill runs sharing one cache would: each with its own Cache object, all
    // downloading the same blob at once, while a reader looks at its place all along.
    const auto content = test::sample(1'000'000);
    const auto sha256 = sha256_hex(content);
    const auto destination = m_cache.blob_path(sha256);
    std::atomic<bool> writing{true};
    std::atomic<int> seen_whole{0};
    std::atomic<int> seen_partial{0};
    std::thread reader([&] {
        while (writing.load()) {
            std::error_code ec;
            if (fs::exists(destination, ec)) {
                (read_file(destination) == content ? seen_whole : seen_partial).fetch_add(1);
            }
        }
    });
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w) {
        writers.emplace_back([&] {
            const Cache cache(m_root);
            for (int round = 0; round < 2; ++round) {
                auto file = cache.new_blob_file();
                for (std::size_t at = 0; at < content.size(); at += 65536) {
                    file.write(std::string_view(content).substr(at, 65536));
                }
                file.commit(cache.blob_path(sha256));
            }
        });
    }
    for (auto& writer : writers) {
        writer.join();
    }
    writing.store(false);
    reader.join();
    EXPECT_EQ(seen_partial.load(), 0) << "a reader saw a half-written blob";
    EXPECT_TRUE(m_cache.has_blob(sha256));
    EXPECT_EQ(file_hex_digest(destination), sha256);
    EXPECT_THAT(files_under(m_root), ElementsAre("blobs/sha256/" + sha256));
}

TEST_F(CoreCache, ConcurrentWritersOfOneUrlRecordLeaveAWholeOne) {
    const std::string url = "http://127.0.0.1:1/dists/bookworm/InRelease";
    std::vector<std::string> blobs;
    for (int w = 0; w < 4; ++w) {
        blobs.push_back(put_blob("release " + std::to_string(w)));
    }
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w) {
        writers.emplace_back([&, w] {
            const Cache cache(m_root);
            for (int round = 0; round < 20; ++round) {
                cache.store_url_record(UrlRecord{url, "\"" + std::to_string(w) + "\"", "",
                                                 blobs.at(static_cast<std::size_t>(w))});
            }
        });
    }
    for (auto& writer : writers) {
        writer.join();
    }
    const auto record = m_cache.url_record(url);
    ASSERT_TRUE(record.has_value()) << "the record left behind does not read";
    // Whichever writer came last, its record is whole: etag and blob from the same writer.
    const auto writer = std::stoul(record->etag.substr(1));
    ASSERT_LT(writer, blobs.size());
    EXPECT_EQ(record->sha256, blobs.at(writer));
    EXPECT_THAT(files_under(m_root / "urls"), ElementsAre(sha256_hex(url) + ".json"));
}

TEST_F(CoreCache, AnUncreatableRootIsAnErrorNamingIt) {
    write_file_atomic(scratch() / "a-file", "not a directory");
    try {
        const Cache cache(scratch() / "a-file" / "cache");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr((scratch() / "a-file" / "cache").string() +
                                        ": cannot create the cache directory"));
    }
}

TEST(CoreCacheRoot, XdgCacheHomeThenHome) {
    const ScopedEnv home("HOME", "/home/someone");
    {
        const ScopedEnv xdg("XDG_CACHE_HOME", "/var/cache/someone");
        EXPECT_EQ(Cache::default_root(), fs::path("/var/cache/someone/distill"));
    }
    {
        // A relative XDG_CACHE_HOME is invalid by the XDG specification, and ignored.
        const ScopedEnv xdg("XDG_CACHE_HOME", "relative/cache");
        EXPECT_EQ(Cache::default_root(), fs::path("/home/someone/.cache/distill"));
    }
    const ScopedEnv xdg("XDG_CACHE_HOME", nullptr);
    EXPECT_EQ(Cache::default_root(), fs::path("/home/someone/.cache/distill"));
}

TEST(CoreCacheRoot, NeitherIsAnErrorThatNamesTheOption) {
    const ScopedEnv home("HOME", nullptr);
    const ScopedEnv xdg("XDG_CACHE_HOME", nullptr);
    try {
        (void)Cache::default_root();
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("--cache-dir"));
    }
}

} // namespace
} // namespace distill::core
