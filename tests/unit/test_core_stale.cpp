#include <atomic>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include <distill/core/fs.hpp>

namespace distill::core {
namespace {

namespace fs = std::filesystem;

void touch(const fs::path& path) {
    std::ofstream(path) << "left behind";
}

class CoreStale : public ::testing::Test {
protected:
    TempDir m_dir{"distill-stale-test-"};
    const fs::path& dir() const { return m_dir.path(); }
};

TEST_F(CoreStale, TemporaryFilesNoProcessHoldsAreRemoved) {
    fs::create_directories(dir() / "blobs" / "sha256");
    // What a killed writer leaves: the name AtomicFile uses, no lock.
    touch(dir() / "blobs" / "sha256" / (temporary_prefix("new") + "a1b2c3"));
    touch(dir() / "blobs" / "sha256" / "0123");
    touch(dir() / ".hidden");
    remove_stale(dir(), temporary_prefix(), true);
    EXPECT_FALSE(fs::exists(dir() / "blobs" / "sha256" / (temporary_prefix("new") + "a1b2c3")));
    EXPECT_TRUE(fs::exists(dir() / "blobs" / "sha256" / "0123"));
    EXPECT_TRUE(fs::exists(dir() / ".hidden"));
}

TEST_F(CoreStale, TemporaryFilesBeingWrittenStay) {
    AtomicFile live(dir() / "derived" / "x.pack");
    live.write(std::string_view("half"));
    remove_stale(dir(), temporary_prefix(), true);
    ASSERT_TRUE(fs::exists(live.temp_path()));
    live.commit();
    EXPECT_TRUE(fs::exists(dir() / "derived" / "x.pack"));
}

TEST_F(CoreStale, StagingDirectoriesOfDeadRunsGoLiveOnesStay) {
    fs::create_directories(dir() / ".image.distill-dead00" / "blobs");
    touch(dir() / ".image.distill-dead00" / "blobs" / "layer");
    const TempDir live(".image.distill-", dir());
    remove_stale(dir(), ".image.distill-");
    EXPECT_FALSE(fs::exists(dir() / ".image.distill-dead00"));
    EXPECT_TRUE(fs::is_directory(live.path()));
}

TEST_F(CoreStale, SymlinksAreNeverFollowed) {
    fs::create_directories(dir() / "target");
    touch(dir() / "target" / "file");
    fs::create_directory_symlink(dir() / "target", dir() / ".image.distill-link00");
    remove_stale(dir(), ".image.distill-");
    EXPECT_TRUE(fs::exists(dir() / "target" / "file"));
}

TEST_F(CoreStale, TempDirSurvivesAnotherRunSweepingAtTheSameMoment) {
    // Two builds at once: one sweeps stale directories while the other makes its own. A
    // directory taken between mkdtemp and its lock must be made again, not reported.
    std::atomic<bool> done{false};
    std::thread sweeper([&] {
        while (!done) {
            remove_stale(dir(), "race-");
        }
    });
    int made = 0;
    std::string failure;
    for (; made < 2000 && failure.empty(); ++made) {
        try {
            const TempDir own("race-", dir());
            if (!fs::is_directory(own.path())) {
                failure = own.path().string() + " is gone while its owner holds it";
            }
        } catch (const std::exception& error) {
            failure = error.what();
        }
    }
    done = true;
    sweeper.join();
    EXPECT_EQ(failure, "");
    EXPECT_EQ(made, 2000);
}

} // namespace
} // namespace distill::core
