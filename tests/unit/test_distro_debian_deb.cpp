// Reading real .deb files of every shape seen in the wild (../shared/testdata/deb/debs) into the
// cached unpacked form, checked against dpkg-deb's own reading.

#include <algorithm>
#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <distill/core/cache.hpp>
#include <distill/core/digest.hpp>
#include <distill/core/fs.hpp>
#include <distill/core/process.hpp>
#include <distill/distro/debian/deb.hpp>

#include "support.hpp"

namespace distill::distro::debian {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class UnpackDeb : public test::ScratchTest {
protected:
    [[nodiscard]] static fs::path deb(const std::string& name) {
        return test::testdata_dir() / "deb" / "debs" / name;
    }

    [[nodiscard]] DebInput input(const fs::path& path, Limits limits = {}) const {
        return DebInput{path, core::file_hex_digest(path), path.filename().string(), limits};
    }

    [[nodiscard]] UnpackedPackage unpack(const std::string& name) const {
        return unpack_deb(input(deb(name)), m_cache);
    }

    /// The bytes of `member` of the package's data archive, as dpkg-deb and tar read them.
    [[nodiscard]] static std::string dpkg_extract(const fs::path& package,
                                                  const std::string& member) {
        const auto result =
            core::run_process({"sh", "-c", "dpkg-deb --fsys-tarfile \"$0\" | tar -xO \"$1\"",
                               package.string(), member});
        EXPECT_EQ(result.exit_code, 0) << result.err;
        return result.out;
    }

    core::Cache m_cache{scratch() / "cache"};
};

TEST_F(UnpackDeb, ZstdMembersMatchDpkgDeb) {
    DISTILL_REQUIRE_TESTDATA("deb/debs/toilet_0.3-1.4build1_amd64.deb");
    const auto package = unpack("toilet_0.3-1.4build1_amd64.deb");
    EXPECT_THAT(package.control, HasSubstr("Package: toilet\n"));
    EXPECT_FALSE(package.md5sums.empty());
    const auto& binary = test::find_entry(package, "./usr/bin/toilet");
    EXPECT_EQ(binary.type, EntryType::file);
    EXPECT_EQ(binary.mode, 0755U);
    EXPECT_EQ(binary.size, 27320U);
    const auto expected = dpkg_extract(deb("toilet_0.3-1.4build1_amd64.deb"), "./usr/bin/toilet");
    EXPECT_EQ(test::pack_bytes(package, binary), expected);
    EXPECT_EQ(binary.sha256, core::sha256_hex(expected));
    // The package's own md5sums agrees with what was computed while reading.
    EXPECT_THAT(package.md5sums, HasSubstr(binary.md5 + "  usr/bin/toilet\n"));
    const auto& link = test::find_entry(package, "./usr/bin/figlet-toilet");
    EXPECT_EQ(link.type, EntryType::symlink);
    EXPECT_EQ(link.link, "toilet");
    EXPECT_EQ(test::find_entry(package, "./usr/").type, EntryType::directory);
    EXPECT_GT(package.date, 1700000000); // built in 2024
}

TEST_F(UnpackDeb, UncompressedMembersWithGnuArNames) {
    DISTILL_REQUIRE_TESTDATA("deb/debs/test_tar_control.deb");
    const auto package = unpack("test_tar_control.deb");
    EXPECT_THAT(package.control, HasSubstr("Package:"));
    EXPECT_TRUE(package.entries.empty());
    EXPECT_EQ(package.unpacked_bytes, 0U);
}

TEST_F(UnpackDeb, GzipControlAndXzData) {
    DISTILL_REQUIRE_TESTDATA("deb/debs/libboost-program-options-dev_1.62.0.1_i386.deb");
    const auto package = unpack("libboost-program-options-dev_1.62.0.1_i386.deb");
    EXPECT_THAT(package.control, HasSubstr("Multi-Arch: same"));
    const auto& copyright =
        test::find_entry(package, "./usr/share/doc/libboost-program-options-dev/copyright");
    EXPECT_EQ(copyright.size, 1256U);
    EXPECT_EQ(test::pack_bytes(package, copyright),
              dpkg_extract(deb("libboost-program-options-dev_1.62.0.1_i386.deb"),
                           "./usr/share/doc/libboost-program-options-dev/copyright"));
}

TEST_F(UnpackDeb, Base256OwnersAreRead) {
    DISTILL_REQUIRE_TESTDATA("deb/debs/deb-bug-330162-encoded-tar-header.deb");
    const auto package = unpack("deb-bug-330162-encoded-tar-header.deb");
    ASSERT_EQ(package.entries.size(), 1U);
    EXPECT_EQ(package.entries[0].uid, 2097152U);
    EXPECT_EQ(package.entries[0].gid, 2097152U);
}

TEST_F(UnpackDeb, TruncatedDataIsAnErrorNamingThePackage) {
    DISTILL_REQUIRE_TESTDATA("deb/debs/libboost-broken-program-options-dev_1.49.0.1_i386.deb");
    const auto path = deb("libboost-broken-program-options-dev_1.49.0.1_i386.deb");
    try {
        (void)unpack_deb(input(path), m_cache);
        FAIL() << "a truncated package was accepted";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("libboost-broken-program-options-dev_1.49.0.1_i386.deb"));
        EXPECT_THAT(e.what(), HasSubstr("data.tar"));
    }
    // Nothing of it is cached as unpacked.
    EXPECT_FALSE(
        fs::exists(m_cache.derived_path("unpacked", core::file_hex_digest(path) + ".json")));
}

TEST_F(UnpackDeb, EveryRealPackageReadsLikeDpkgDeb) {
    DISTILL_REQUIRE_TESTDATA("deb/mopidy-repo/pool");
    int files = 0;
    for (const auto& item : fs::recursive_directory_iterator(test::testdata_dir() / "deb")) {
        const auto& path = item.path();
        if (path.extension() != ".deb" && path.extension() != ".udeb") {
            continue;
        }
        if (path.filename().string().find("broken") != std::string::npos) {
            continue;
        }
        SCOPED_TRACE(path.filename().string());
        const auto package = unpack_deb(input(path), m_cache);
        const auto listing = core::run_process(
            {"sh", "-c", "dpkg-deb --fsys-tarfile \"$0\" | tar -t", path.string()});
        ASSERT_EQ(listing.exit_code, 0) << listing.err;
        std::string mine;
        for (const auto& entry : package.entries) {
            mine += entry.path + "\n";
        }
        EXPECT_EQ(mine, listing.out);
        ++files;
    }
    EXPECT_GE(files, 20);
}

TEST_F(UnpackDeb, SecondReadComesFromTheCacheWithoutThePackage) {
    DISTILL_REQUIRE_TESTDATA("deb/debs/toilet_0.3-1.4build1_amd64.deb");
    const auto copy = scratch() / "toilet.deb";
    fs::copy_file(deb("toilet_0.3-1.4build1_amd64.deb"), copy);
    const auto first = unpack_deb(input(copy), m_cache);
    const auto in = input(copy);
    fs::remove(copy);
    const auto second = unpack_deb(in, m_cache);
    ASSERT_EQ(first.entries.size(), second.entries.size());
    for (std::size_t i = 0; i < first.entries.size(); ++i) {
        EXPECT_EQ(first.entries[i].path, second.entries[i].path);
        EXPECT_EQ(first.entries[i].sha256, second.entries[i].sha256);
        EXPECT_EQ(first.entries[i].offset, second.entries[i].offset);
    }
    EXPECT_EQ(first.control, second.control);
    EXPECT_EQ(first.date, second.date);
    EXPECT_EQ(first.pack, second.pack);
}

TEST_F(UnpackDeb, ExpansionBeyondTheLimitIsRefused) {
    DISTILL_REQUIRE_TESTDATA("deb/debs/toilet_0.3-1.4build1_amd64.deb");
    Limits limits;
    limits.max_bytes = 1000;
    try {
        (void)unpack_deb(input(deb("toilet_0.3-1.4build1_amd64.deb"), limits), m_cache);
        FAIL() << "the limit was not enforced";
    } catch (const UnsafeContentError& e) {
        EXPECT_THAT(e.what(), HasSubstr("expands beyond 1000 bytes"));
        EXPECT_EQ(e.exit_code(), ExitCode::unsafe_content);
    }
}

TEST_F(UnpackDeb, NotADebIsAClearError) {
    const auto bogus = write("bogus.deb", "this is not an ar archive\n");
    try {
        (void)unpack_deb(input(bogus), m_cache);
        FAIL() << "garbage was accepted";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("bogus.deb"));
    }
}

TEST_F(UnpackDeb, ManyPackagesInParallelKeepTheirOrder) {
    DISTILL_REQUIRE_TESTDATA("deb/mopidy-repo/pool");
    std::vector<DebInput> inputs;
    for (const auto& item :
         fs::recursive_directory_iterator(test::testdata_dir() / "deb" / "mopidy-repo")) {
        if (item.path().extension() == ".deb") {
            inputs.push_back(input(item.path()));
        }
    }
    std::sort(inputs.begin(), inputs.end(),
              [](const DebInput& a, const DebInput& b) { return a.path < b.path; });
    core::NullReporter reporter;
    const auto packages = unpack_all(inputs, m_cache, 4, reporter);
    ASSERT_EQ(packages.size(), inputs.size());
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        EXPECT_EQ(packages[i].control, unpack_deb(inputs[i], m_cache).control);
    }
}

} // namespace
} // namespace distill::distro::debian
