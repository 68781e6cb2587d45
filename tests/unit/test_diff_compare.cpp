// diff::compare on sides made in memory: packages added, removed, upgraded and downgraded in
// the distro's version order, files of images, architectures on one side only, and the
// changelog of an upgrade found through the file the fetch step noted for an image's package.
#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <distill/core/cache.hpp>
#include <distill/core/digest.hpp>
#include <distill/diff/diff.hpp>
#include <distill/fetch/fetch.hpp>
#include <distill/package/record.hpp>

#include "support.hpp"

namespace distill::diff {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

Package package(const std::string& name, const std::string& version) {
    return Package{name, version, "amd64", name, 1024, {}, {}, 0};
}

Arch arch(const std::string& name, std::initializer_list<Package> packages) {
    Arch result;
    result.arch = name;
    for (const auto& p : packages) {
        result.packages[p.name] = p;
        result.size += p.installed_size;
    }
    return result;
}

class DiffCompare : public test::ScratchTest {
protected:
    core::Cache cache() const { return core::Cache(scratch() / "cache"); }
    core::NullReporter m_reporter;
};

TEST_F(DiffCompare, PackagesInTheDistrosVersionOrder) {
    Side before{"old.lock", manifest::Distro::debian, {}, false, {}};
    before.archs.push_back(arch("amd64", {package("same", "1.0-1"), package("up", "1.0-1"),
                                          package("down", "1:1.0-1"), package("gone", "2.0")}));
    before.archs.push_back(arch("arm64", {package("same", "1.0-1")}));
    Side after{"new.lock", manifest::Distro::debian, {}, false, {}};
    // 1.0~rc1 sorts before 1.0 and an epoch outweighs any version: the distro's order, not
    // the strings'.
    after.archs.push_back(arch("amd64", {package("same", "1.0-1"), package("up", "1.0-1+b1"),
                                         package("down", "2.0-1"), package("new", "1.0~rc1")}));

    const auto diff = compare(before, after, cache(), m_reporter);
    EXPECT_EQ(diff.before, "old.lock");
    EXPECT_EQ(diff.after, "new.lock");
    EXPECT_FALSE(diff.empty());
    ASSERT_EQ(diff.archs.size(), 2U);
    const auto& amd64 = diff.archs[0];
    EXPECT_EQ(amd64.arch, "amd64");
    ASSERT_EQ(amd64.packages.size(), 4U); // sorted by name; `same` is not a change
    EXPECT_EQ(amd64.packages[0].name, "down");
    EXPECT_EQ(amd64.packages[0].kind, PackageChange::Kind::downgraded);
    EXPECT_EQ(amd64.packages[1].name, "gone");
    EXPECT_EQ(amd64.packages[1].kind, PackageChange::Kind::removed);
    EXPECT_EQ(amd64.packages[1].old_version, "2.0");
    EXPECT_EQ(amd64.packages[2].name, "new");
    EXPECT_EQ(amd64.packages[2].kind, PackageChange::Kind::added);
    EXPECT_EQ(amd64.packages[2].new_version, "1.0~rc1");
    const auto& up = amd64.packages[3];
    EXPECT_EQ(up.kind, PackageChange::Kind::upgraded);
    EXPECT_EQ(up.old_version, "1.0-1");
    EXPECT_EQ(up.new_version, "1.0-1+b1");
    // Neither the lock nor the cache knows its file: no changelog, and the note says so.
    EXPECT_THAT(up.cves, IsEmpty());
    EXPECT_FALSE(up.changelog_note.empty());
    EXPECT_FALSE(amd64.has_files);
    EXPECT_EQ(amd64.size_before, 4U * 1024U);
    EXPECT_EQ(amd64.size_after, 4U * 1024U);

    // An architecture only the old side has: everything of it is removed.
    EXPECT_EQ(diff.archs[1].arch, "arm64");
    ASSERT_EQ(diff.archs[1].packages.size(), 1U);
    EXPECT_EQ(diff.archs[1].packages[0].kind, PackageChange::Kind::removed);

    EXPECT_TRUE(compare(after, after, cache(), m_reporter).empty());
}

TEST_F(DiffCompare, FilesOfTwoImages) {
    Side before{"old", manifest::Distro::debian, "sha256:1", true, {}};
    Side after{"new", manifest::Distro::debian, "sha256:2", true, {}};
    before.archs.push_back(arch("amd64", {}));
    after.archs.push_back(arch("amd64", {}));
    before.archs[0].files =
        std::map<std::string, File>{{"etc/kept", File{'f', 0644, 0, 0, 3, "aaa"}},
                                    {"etc/changed", File{'f', 0644, 0, 0, 3, "bbb"}},
                                    {"etc/gone", File{'l', 0777, 0, 0, 0, "target"}}};
    after.archs[0].files = std::map<std::string, File>{
        {"etc/kept", File{'f', 0644, 0, 0, 3, "aaa"}},
        {"etc/changed", File{'f', 0600, 0, 0, 3, "bbb"}}, // the mode alone differs
        {"etc/new", File{'d', 0755, 0, 0, 0, {}}}};
    const auto diff = compare(before, after, cache(), m_reporter);
    EXPECT_EQ(diff.digest_before, "sha256:1");
    EXPECT_EQ(diff.digest_after, "sha256:2");
    ASSERT_EQ(diff.archs.size(), 1U);
    EXPECT_TRUE(diff.archs[0].has_files);
    EXPECT_THAT(diff.archs[0].files_added, ElementsAre("etc/new"));
    EXPECT_THAT(diff.archs[0].files_removed, ElementsAre("etc/gone"));
    EXPECT_THAT(diff.archs[0].files_changed, ElementsAre("etc/changed"));
}

TEST_F(DiffCompare, AnImagesUpgradeFindsItsChangelogThroughTheFileTheFetchNoted) {
    DISTILL_REQUIRE_TESTDATA("deb/mopidy-repo/pool/main/m/mopidy/mopidy_3.4.2-2_all.deb");
    const auto file =
        test::testdata_dir() / "deb/mopidy-repo/pool/main/m/mopidy/mopidy_3.4.2-2_all.deb";
    const auto cache = this->cache();
    package::Record record;
    record.name = "mopidy";
    record.version = "3.4.2-2";
    record.arch = "all";
    record.sha256 = core::file_hex_digest(file);
    (void)fetch::fetch_all(
        {fetch::Download{
            "mopidy", {"file://" + file.string()}, record.sha256, fs::file_size(file)}},
        cache, fetch::Options{}, m_reporter);
    package::remember_file(cache, record);

    // Images name packages by name and version only.
    Side before{"old", manifest::Distro::debian, {}, true, {}};
    Side after{"new", manifest::Distro::debian, {}, true, {}};
    before.archs.push_back(
        arch("amd64", {Package{"mopidy", "3.4.1-1", "all", "mopidy", 0, {}, {}, 0}}));
    after.archs.push_back(
        arch("amd64", {Package{"mopidy", "3.4.2-2", "all", "mopidy", 0, {}, {}, 0}}));
    const auto diff = compare(before, after, cache, m_reporter);
    ASSERT_EQ(diff.archs.size(), 1U);
    ASSERT_EQ(diff.archs[0].packages.size(), 1U);
    const auto& change = diff.archs[0].packages[0];
    EXPECT_EQ(change.kind, PackageChange::Kind::upgraded);
    EXPECT_EQ(change.changelog_note, "");
    EXPECT_THAT(change.changelog_versions, ElementsAre("3.4.2-2", "3.4.2-1"));
    EXPECT_THAT(change.bugs, ::testing::IsSupersetOf({"1032800", "1073775", "1042622"}));
}

} // namespace
} // namespace distill::diff
