// The grammar of the fields that name a Debian package, and the Packages index scan that
// checks them before libsolv (and so the cache and the image) sees them.

#include <cstdio>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <distill/core/fs.hpp>
#include <distill/distro/debian/fields.hpp>
#include <distill/distro/debian/packages_scan.hpp>

#include "support.hpp"

namespace distill::distro::debian {
namespace {

using ::testing::HasSubstr;

TEST(DebFields, PackageNamesFollowPolicy) {
    for (const char* good : {"libc6", "g++", "libstdc++6", "0ad", "python3.11", "x-y.z+w"}) {
        EXPECT_EQ(package_name_problem(good), std::nullopt) << good;
    }
    for (const char* bad :
         {"", "a", "../../x", "a/b", "Libc6", "-x", ".x", "+x", "a_b", "a b", "a\nb", "a:amd64"}) {
        EXPECT_NE(package_name_problem(bad), std::nullopt) << bad;
    }
}

TEST(DebFields, VersionsFollowDpkg) {
    for (const char* good : {"1.0", "2:4.35-1", "2.36-9+deb12u4", "1.0~rc1-0.1", "0"}) {
        EXPECT_EQ(version_problem(good), std::nullopt) << good;
    }
    for (const char* bad :
         {"", "1/../../x", "1.0/2", "a1.0", "1.0 -1", " 1.0", "1.0\n", "x:1", "1.0-", "1_0"}) {
        EXPECT_NE(version_problem(bad), std::nullopt) << bad;
    }
}

TEST(DebFields, ArchitecturesAreKnownOrAll) {
    EXPECT_EQ(architecture_problem("amd64"), std::nullopt);
    EXPECT_EQ(architecture_problem("all"), std::nullopt);
    EXPECT_EQ(architecture_problem("arm64"), std::nullopt);
    for (const char* bad : {"", "../x", "x86_64", "amd64/..", "any"}) {
        EXPECT_NE(architecture_problem(bad), std::nullopt) << bad;
    }
}

TEST(DebFields, FilenamesStayBelowTheRepository) {
    EXPECT_EQ(filename_problem("pool/main/h/hello/hello_2.10-3_amd64.deb"), std::nullopt);
    for (const char* bad : {"", "/etc/passwd", "pool/../../x.deb", "http://evil/x.deb",
                            "file:/x.deb", "pool//x.deb", "pool/./x.deb", "pool/x\n.deb"}) {
        EXPECT_NE(filename_problem(bad), std::nullopt) << bad;
    }
}

TEST(DebFields, IdentityNamesTheField) {
    EXPECT_EQ(identity_problem("libc6", "2.36-9", "amd64"), std::nullopt);
    EXPECT_THAT(identity_problem("../../x", "1", "amd64").value_or(""), HasSubstr("Package"));
    EXPECT_THAT(identity_problem("x1", "1/../../x", "amd64").value_or(""), HasSubstr("Version"));
    EXPECT_THAT(identity_problem("x1", "1", "../x").value_or(""), HasSubstr("Architecture"));
}

/// Runs the scan over `text` as libsolv would read it; the scan's problem, or "" if none.
std::string scan_problem(const std::string& text) {
    std::FILE* source = fmemopen(const_cast<char*>(text.data()), text.size(), "r");
    PackagesScan scan(source, "Packages", PackagesScan::Limits{});
    std::FILE* tee = scan.file();
    char buffer[64];
    while (std::fread(buffer, 1, sizeof buffer, tee) > 0) {
    }
    std::fclose(tee);
    std::fclose(source);
    return scan.error();
}

const std::string k_good = "Package: hello\n"
                           "Version: 2.10-3\n"
                           "Architecture: amd64\n"
                           "Filename: pool/main/h/hello/hello_2.10-3_amd64.deb\n"
                           "Size: 53000\n"
                           "SHA256: " +
                           std::string(64, 'a') + "\n\n";

TEST(PackagesScan, AcceptsAGoodIndex) {
    EXPECT_EQ(scan_problem(k_good + k_good), "");
}

TEST(PackagesScan, AcceptsARealRepository) {
    DISTILL_REQUIRE_TESTDATA("deb/mopidy-repo/dists/bookworm/main/binary-amd64/Packages");
    const auto text = core::read_file(test::testdata_dir() /
                                      "deb/mopidy-repo/dists/bookworm/main/binary-amd64/Packages");
    ASSERT_NE(text.find("Package:"), std::string::npos);
    EXPECT_EQ(scan_problem(text), "");
}

TEST(PackagesScan, NamesTheLineOfABadField) {
    const auto with = [](const std::string& from, const std::string& to) {
        std::string text = k_good;
        text.replace(text.find(from), from.size(), to);
        return k_good + text; // the bad stanza is the second: its lines are 8 to 13
    };
    EXPECT_THAT(scan_problem(with("Package: hello", "Package: ../../x")),
                HasSubstr("line 8: Package `../../x`"));
    EXPECT_THAT(scan_problem(with("Version: 2.10-3", "Version: 1/../../x")),
                HasSubstr("line 9: Version `1/../../x`"));
    EXPECT_THAT(scan_problem(with("Architecture: amd64", "Architecture: ../x")),
                HasSubstr("line 10: Architecture"));
    EXPECT_THAT(scan_problem(with("Filename: pool", "Filename: ../../pool")),
                HasSubstr("line 11: Filename"));
    EXPECT_THAT(scan_problem(with("Size: 53000", "Size: 12abc")), HasSubstr("line 12: Size"));
    EXPECT_THAT(scan_problem(with("Size: 53000", "Size: 99999999999999999999999")),
                HasSubstr("line 12: Size"));
    EXPECT_THAT(scan_problem(with("SHA256: aaaa", "SHA256: zzzz")), HasSubstr("line 13: SHA256"));
    EXPECT_THAT(scan_problem(with("Version: 2.10-3\n", "")),
                HasSubstr("line 8: the stanza of hello has no Version"));
}

} // namespace
} // namespace distill::distro::debian
