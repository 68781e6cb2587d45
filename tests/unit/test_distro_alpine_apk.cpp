// Reading real .apk files (the 24-package closure of alpine-base in ../shared/testdata/alpine)
// into the cached unpacked form, checked against MANIFEST.tsv and GNU tar's own reading; and
// tampered or crafted packages refused.

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <distill/core/cache.hpp>
#include <distill/core/digest.hpp>
#include <distill/core/fs.hpp>
#include <distill/core/process.hpp>
#include <distill/distro/alpine/apk.hpp>
#include <distill/unpack/tree.hpp>
#include <distill/unpack/unpack.hpp>

#include "apk_support.hpp"
#include "support.hpp"

namespace distill::distro::alpine {
namespace {

namespace fs = std::filesystem;
using test::apk::TarEntry;
using ::testing::HasSubstr;
using unpack::EntryType;
using unpack::RawEntry;
using unpack::UnpackedPackage;
using unpack::UnsafeContentError;

constexpr const char* k_iso = "v3.19/iso-repo/x86_64/";

class ReadApk : public test::ScratchTest {
protected:
    static fs::path alpine() { return test::testdata_dir() / "alpine"; }

    [[nodiscard]] static unpack::Input input(const fs::path& path, std::string identity = {}) {
        unpack::Input in{path, core::file_hex_digest(path), path.filename().string(), {}};
        in.identity = std::move(identity);
        return in;
    }

    [[nodiscard]] UnpackedPackage read(const unpack::Input& in) const {
        return unpack::unpack(in, ApkReader(), m_cache);
    }

    /// Writes `bytes` as a package file in the scratch directory and reads it.
    [[nodiscard]] UnpackedPackage read_bytes(const std::string& bytes,
                                             std::string identity = {}) const {
        return read(input(write("crafted-1.0-r0.apk", bytes), std::move(identity)));
    }

    core::Cache m_cache{scratch() / "cache"};
};

TEST_F(ReadApk, EveryIsoRepoPackageReadsAndChecksOut) {
    DISTILL_REQUIRE_TESTDATA("alpine/MANIFEST.tsv");
    DISTILL_REQUIRE_PROGRAM("tar", "tar");
    int packages = 0;
    for (const auto& [path, row] : test::apk::manifest_rows()) {
        if (!path.starts_with(k_iso) || !path.ends_with(".apk")) {
            continue;
        }
        SCOPED_TRACE(path);
        const auto file = alpine() / path;
        const auto package = read(input(file, row.at("C")));
        const auto info = parse_pkginfo(package.control, path);
        EXPECT_EQ(info.pkgname + "-" + info.pkgver, row.at("pkg"));
        EXPECT_EQ(info.arch, row.at("arch"));
        EXPECT_EQ(package.date, info.builddate);
        EXPECT_GT(info.builddate, 1600000000); // built after 2020
        // GNU tar reads the members as one archive: signature, control, then data entries.
        const auto listing =
            core::run_process({"tar", "-tzf", file.string(), "--warning=no-unknown-keyword"});
        ASSERT_EQ(listing.exit_code, 0) << listing.err;
        std::string theirs;
        std::istringstream lines(listing.out);
        for (std::string line; std::getline(lines, line);) {
            const auto& scripts = install_scripts();
            const bool control = line.starts_with(".SIGN.") || line == ".PKGINFO" ||
                                 std::find(scripts.begin(), scripts.end(), line) != scripts.end();
            if (!control) {
                theirs += line + "\n";
            }
        }
        std::string mine;
        for (const auto& entry : package.entries) {
            mine += entry.path + "\n";
        }
        EXPECT_EQ(mine, theirs);
        ++packages;
    }
    EXPECT_EQ(packages, 24);
}

TEST_F(ReadApk, EveryOtherFixturePackageReadsAndChecksOut) {
    // apko's melange-built packages (with a .melange.yaml control file), Wolfi's, an aarch64
    // Alpine one: their C: and datahash check out as well.
    DISTILL_REQUIRE_TESTDATA("alpine/MANIFEST.tsv");
    int packages = 0;
    for (const auto& [path, row] : test::apk::manifest_rows()) {
        if (path.starts_with(k_iso) || !path.ends_with(".apk")) {
            continue;
        }
        SCOPED_TRACE(path);
        const auto package = read(input(alpine() / path, row.at("C")));
        const auto info = parse_pkginfo(package.control, path);
        EXPECT_EQ(info.pkgname + "-" + info.pkgver, row.at("pkg"));
        EXPECT_EQ(info.arch, row.at("arch"));
        EXPECT_FALSE(package.entries.empty());
        ++packages;
    }
    EXPECT_EQ(packages, 13);
}

TEST_F(ReadApk, MuslShipsItsLoaderAndTheLibcLink) {
    DISTILL_REQUIRE_TESTDATA("alpine/MANIFEST.tsv");
    const auto path = alpine() / k_iso / "musl-1.2.4_git20230717-r4.apk";
    const auto package = read(input(path, "Q1kqFQHSGzXGq3k7gQTqb+GxbmnOw="));
    const auto& loader = test::find_entry(package, "lib/ld-musl-x86_64.so.1");
    EXPECT_EQ(loader.type, EntryType::file);
    EXPECT_EQ(loader.mode, 0755U);
    EXPECT_EQ(loader.size, 649832U);
    // The package's own per-file checksum (PAX APK-TOOLS.checksum.SHA1) of the bytes read.
    core::Hasher sha1(core::HashAlgorithm::sha1);
    const auto bytes = test::pack_bytes(package, loader);
    sha1.update(bytes);
    EXPECT_EQ(sha1.hex_digest(), "fb3109886e770b1cbb0e4579a1942a7969f3c9b6");
    EXPECT_EQ(loader.sha256, core::sha256_hex(bytes));
    const auto& link = test::find_entry(package, "lib/libc.musl-x86_64.so.1");
    EXPECT_EQ(link.type, EntryType::symlink);
    EXPECT_EQ(link.link, "ld-musl-x86_64.so.1");
    EXPECT_EQ(test::find_entry(package, "lib/").type, EntryType::directory);
    EXPECT_EQ(package.date, 1699271358);
    const auto info = parse_pkginfo(package.control, "musl");
    EXPECT_EQ(info.pkgname, "musl");
    EXPECT_EQ(info.pkgver, "1.2.4_git20230717-r4");
    EXPECT_EQ(info.size, 667648U);
    EXPECT_EQ(info.origin, "musl");
    EXPECT_EQ(info.license, "MIT");
    EXPECT_EQ(info.url, "https://musl.libc.org/");
    EXPECT_EQ(info.commit, "ca7f2ab5e88794e4e654b40776f8a92256f50639");
    EXPECT_EQ(info.maintainer, "Timo Teräs <timo.teras@iki.fi>");
    EXPECT_EQ(info.provides, std::vector<std::string>{"so:libc.musl-x86_64.so.1=1"});
    EXPECT_TRUE(info.depends.empty());
    EXPECT_EQ(info.datahash, "e18133cc504fb5cb6e025c64cec34f9a8f1a72fc24d2c1b882c4cd1538c6744f");
    EXPECT_TRUE(package.scripts.empty());
}

TEST_F(ReadApk, BusyboxKeepsItsScriptsAndTrigger) {
    DISTILL_REQUIRE_TESTDATA("alpine/MANIFEST.tsv");
    const auto package = read(input(alpine() / k_iso / "busybox-1.36.1-r15.apk"));
    const auto& busybox = test::find_entry(package, "bin/busybox");
    EXPECT_EQ(busybox.type, EntryType::file);
    EXPECT_EQ(busybox.mode, 0755U);
    EXPECT_TRUE(package.scripts.contains(".post-install"));
    EXPECT_TRUE(package.scripts.contains(".trigger"));
    EXPECT_THAT(package.scripts.at(".post-install"), HasSubstr("busybox"));
    const auto info = parse_pkginfo(package.control, "busybox");
    ASSERT_EQ(info.triggers.size(), 1U);
    EXPECT_THAT(info.triggers[0], HasSubstr("/bin"));
    EXPECT_FALSE(info.depends.empty());
    // busybox-suid keeps its setuid bit as the package has it (the tree decides).
    const auto suid = read(input(alpine() / k_iso / "busybox-suid-1.36.1-r15.apk"));
    EXPECT_EQ(test::find_entry(suid, "bin/bbsuid").mode & 04000U, 04000U);
}

TEST_F(ReadApk, TamperedMembersAreVerificationErrors) {
    DISTILL_REQUIRE_TESTDATA("alpine/MANIFEST.tsv");
    const auto file = core::read_file(alpine() / k_iso / "musl-1.2.4_git20230717-r4.apk");
    const auto members = test::apk::members_of(file);
    ASSERT_EQ(members.size(), 3U);
    const std::string identity = "Q1kqFQHSGzXGq3k7gQTqb+GxbmnOw=";
    const auto refusal = [&](const std::string& bytes) -> std::string {
        try {
            (void)read_bytes(bytes, identity);
        } catch (const VerificationError& error) {
            EXPECT_THAT(error.what(), HasSubstr("crafted-1.0-r0.apk"));
            return error.what();
        }
        ADD_FAILURE() << "accepted";
        return {};
    };
    // A flipped bit in the control member's gzip header: C: no longer matches.
    auto control = file;
    const auto at = members[0].size() + 4;
    control[at] = static_cast<char>(control[at] ^ 1);
    const auto control_error = refusal(control);
    EXPECT_THAT(control_error, HasSubstr("index's C: says " + identity));
    EXPECT_THAT(control_error, HasSubstr("checksum is Q1"));
    // ... in the data member's: the datahash no longer matches.
    auto data = file;
    const auto data_at = members[0].size() + members[1].size() + 4;
    data[data_at] = static_cast<char>(data[data_at] ^ 1);
    const auto data_error = refusal(data);
    EXPECT_THAT(data_error,
                HasSubstr("datahash says "
                          "e18133cc504fb5cb6e025c64cec34f9a8f1a72fc24d2c1b882c4cd1538c6744f"));
    EXPECT_THAT(data_error, HasSubstr("data member's SHA-256 is"));
    // Nothing of them is cached.
    EXPECT_FALSE(fs::exists(m_cache.derived_path("unpacked", core::sha256_hex(data) + ".json")));
    // Without an identity to check, the control member is taken as it is.
    EXPECT_NO_THROW((void)read_bytes(control));
}

TEST_F(ReadApk, AnythingButThreeMembersIsRefused) {
    DISTILL_REQUIRE_TESTDATA("alpine/MANIFEST.tsv");
    const auto file = core::read_file(alpine() / k_iso / "zlib-1.3.1-r0.apk");
    const auto members = test::apk::members_of(file);
    const auto refused = [&](const std::string& bytes, const std::string& why) {
        try {
            (void)read_bytes(bytes);
            ADD_FAILURE() << "accepted: " << why;
        } catch (const UnsafeContentError& error) {
            EXPECT_THAT(error.what(), HasSubstr(why));
        }
    };
    refused(file + test::apk::gzip("more"), "a gzip member follows the data member");
    refused(members[0] + members[1], "no data member");
    refused(members[0], "no control member");
    // Without its signature member the control member comes first.
    refused(members[1] + members[2], "not a signature");
    // The data member where the control member should be.
    refused(members[0] + members[2] + members[1], "which is data");
    EXPECT_THROW((void)read_bytes(""), Error);
    EXPECT_THROW((void)read_bytes(file.substr(0, file.size() - 10)), Error);
}

TEST_F(ReadApk, ACraftedPackageReads) {
    const auto bytes = test::apk::make_apk(
        {{"usr", "", AE_IFDIR, 0755},
         {"usr/bin/hello", "hello\n", AE_IFREG, 0755},
         {"usr/bin/hi", "", AE_IFREG, 0644, "", "usr/bin/hello"},
         {"usr/bin/link", "", AE_IFLNK, 0777, "hello"}},
        test::apk::pkginfo() + "depend = so:libc.musl-x86_64.so.1\ndepend = busybox\n",
        {{".post-install", "#!/bin/sh\necho hi\n", AE_IFREG, 0755},
         {".melange.yaml", "package: x\n"}});
    const auto package = read_bytes(bytes);
    EXPECT_EQ(test::pack_bytes(package, test::find_entry(package, "usr/bin/hello")), "hello\n");
    EXPECT_EQ(test::find_entry(package, "usr/bin/hi").type, EntryType::hardlink);
    EXPECT_EQ(test::find_entry(package, "usr/bin/link").link, "hello");
    EXPECT_EQ(package.scripts.size(), 1U);
    EXPECT_EQ(package.date, 1700000000);
    const auto info = parse_pkginfo(package.control, "crafted");
    EXPECT_EQ(info.depends, (std::vector<std::string>{"so:libc.musl-x86_64.so.1", "busybox"}));
    // The cut control tar of make_apk and a tar with end blocks read alike; a tar with end
    // blocks in the control member is what some builders write.
    unpack::Tree tree(unpack::Tree::Options{});
    tree.add_package("crafted", "x86_64", package);
    EXPECT_NE(tree.find("usr/bin/hello"), nullptr);
}

TEST_F(ReadApk, CraftedContentIsRefused) {
    const auto refused = [&](const std::vector<TarEntry>& data, const std::string& why,
                             const std::vector<TarEntry>& control = {}) {
        SCOPED_TRACE(why);
        try {
            const auto package =
                read_bytes(test::apk::make_apk(data, test::apk::pkginfo(), control));
            unpack::Tree tree(unpack::Tree::Options{});
            tree.add_package("crafted", "x86_64", package);
            ADD_FAILURE() << "accepted";
        } catch (const UnsafeContentError& error) {
            EXPECT_THAT(error.what(), HasSubstr(why));
            EXPECT_EQ(error.exit_code(), ExitCode::unsafe_content);
        }
    };
    refused({{"../x", "escape"}}, "../x");
    refused({{"/etc/passwd", "absolute"}}, "/etc/passwd");
    refused({{"dev/null", "", AE_IFCHR, 0666}}, "dev/null");
    refused({{"etc", "", AE_IFLNK, 0777, "/"}, {"etc/passwd", "through the link"}}, "etc/passwd");
    refused({{"usr/bin/x", "", AE_IFREG, 0644, "", "../../etc/shadow"}}, "../../etc/shadow");
    refused({{"usr/bad\nname", "newline"}}, "control character");
    refused({{".PKGINFO", "pkgname = other\n"}}, "a name apk keeps for control data");
    refused({{".SIGN.RSA.evil.rsa.pub", "x"}}, "a name apk keeps for control data");
    refused({{"usr/x", "x"}}, "`usr/x`, which is data", {{"usr/x", "in the control member"}});
    refused({{"usr/x", "x"}}, "holds `.PKGINFO` twice", {{".PKGINFO", "pkgname = two\n"}});
    refused({{"usr/x", "x"}}, ".INSTALL", {{".INSTALL", "#!/bin/sh\n"}});
}

TEST_F(ReadApk, ExpansionBeyondTheLimitIsRefused) {
    const auto bytes =
        test::apk::make_apk({{"usr/big", std::string(100000, 'z')}}, test::apk::pkginfo());
    auto in = input(write("big-1.0-r0.apk", bytes));
    in.limits.max_bytes = 1000;
    try {
        (void)read(in);
        FAIL() << "the limit was not enforced";
    } catch (const UnsafeContentError& error) {
        EXPECT_THAT(error.what(), HasSubstr("expands beyond 1000 bytes"));
    }
    in.limits = {};
    in.limits.max_entries = 2;
    const auto many =
        test::apk::make_apk({{"a", "1"}, {"b", "2"}, {"c", "3"}}, test::apk::pkginfo());
    in.path = write("many-1.0-r0.apk", many);
    in.sha256 = core::sha256_hex(many);
    EXPECT_THROW((void)read(in), UnsafeContentError);
}

TEST(AlpinePkgInfo, ParsesLinesAsApkDoes) {
    const auto info = parse_pkginfo("# comment\npkgname = a\npkgver = 1-r0\nnonsense\n"
                                    "unknown = kept out\nsize = 12\nbuilddate = 34\n"
                                    "provides = b=1\nprovides = c\n",
                                    "test");
    EXPECT_EQ(info.pkgname, "a");
    EXPECT_EQ(info.pkgver, "1-r0");
    EXPECT_EQ(info.size, 12U);
    EXPECT_EQ(info.builddate, 34);
    EXPECT_EQ(info.provides, (std::vector<std::string>{"b=1", "c"}));
    EXPECT_THROW((void)parse_pkginfo("pkgname = a\npkgname = b\n", "test"), Error);
    EXPECT_THROW((void)parse_pkginfo("datahash = " + std::string(64, 'a') +
                                         "\ndatahash = " + std::string(64, 'b') + "\n",
                                     "test"),
                 Error);
    // melange writes one line per license.
    const auto two = parse_pkginfo("license = Ruby\nlicense = BSD-2-Clause\n", "test");
    EXPECT_EQ(two.license, "BSD-2-Clause");
    EXPECT_EQ(two.licenses, (std::vector<std::string>{"Ruby", "BSD-2-Clause"}));
    EXPECT_THROW((void)parse_pkginfo("size = 12k\n", "test"), Error);
    EXPECT_THROW((void)parse_pkginfo("builddate = \n", "test"), Error);
    EXPECT_THROW((void)parse_pkginfo("datahash = ABC\n", "test"), Error);
    EXPECT_THROW((void)parse_pkginfo(std::string(k_max_pkginfo + 1, '#'), "test"), Error);
    try {
        (void)parse_pkginfo("pkgname = a\nsize = -1\n", "x.apk: .PKGINFO");
        FAIL();
    } catch (const Error& error) {
        EXPECT_THAT(error.what(), HasSubstr("x.apk: .PKGINFO:2: size `-1`"));
    }
}

} // namespace
} // namespace distill::distro::alpine
