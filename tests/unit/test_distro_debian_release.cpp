// Release files: dates, the fields and hash lists of a real InRelease, and what is refused.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <distill/distro/debian/control.hpp>
#include <distill/distro/debian/release.hpp>

#include "support.hpp"

namespace distill::distro::debian {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(DebRelease, DatesAreReadIndependentlyOfLocale) {
    const auto date = parse_release_date("Sat, 11 Jul 2026 10:16:37 UTC");
    ASSERT_TRUE(date.has_value());
    EXPECT_EQ(date->time_since_epoch().count(), 1783764997);
    EXPECT_EQ(format_release_date(*date), "Sat, 11 Jul 2026 10:16:37 UTC");
    const auto offset = parse_release_date("Sat, 11 Jul 2026 12:16:37 +0200");
    ASSERT_TRUE(offset.has_value());
    EXPECT_EQ(*offset, *date);
    EXPECT_FALSE(parse_release_date("11 Jul 2026").has_value());
    EXPECT_FALSE(parse_release_date("Sat, 31 Feb 2026 10:16:37 UTC").has_value());
    EXPECT_FALSE(parse_release_date("Sat, 11 Foo 2026 10:16:37 UTC").has_value());
}

TEST(DebRelease, RealDebian125InRelease) {
    DISTILL_REQUIRE_TESTDATA("deb/debian-bookworm-12.5/InRelease");
    // The unsigned part is plain deb822; the signature block after it is not parsed here.
    auto text = core::read_file(test::testdata_dir() / "deb/debian-bookworm-12.5/InRelease");
    text = text.substr(text.find("\n\n") + 2);
    text = text.substr(0, text.find("-----BEGIN PGP SIGNATURE-----"));
    const auto release = parse_release(text, "InRelease");
    EXPECT_EQ(release.codename, "bookworm");
    EXPECT_EQ(release.suite, "stable");
    EXPECT_EQ(release.version, "12.5");
    EXPECT_TRUE(release.acquire_by_hash);
    EXPECT_TRUE(release.all_in_arch_indexes);
    EXPECT_THAT(release.components,
                ElementsAre("main", "contrib", "non-free-firmware", "non-free"));
    EXPECT_EQ(release.entries.size(), 772U);
    const auto* packages = release.find("main/binary-amd64/Packages");
    ASSERT_NE(packages, nullptr);
    EXPECT_EQ(packages->size, 49974557U);
    EXPECT_TRUE(release.names("bookworm"));
    EXPECT_TRUE(release.names("stable"));
    EXPECT_FALSE(release.names("trixie"));
    EXPECT_FALSE(release.valid_until.has_value());
}

TEST(DebRelease, MissingSha256IsRefused) {
    try {
        (void)parse_release(
            "Suite: x\nMD5Sum:\n d41d8cd98f00b204e9800998ecf8427e 0 main/Packages\n",
            "http://example.invalid/InRelease");
        FAIL() << "no error";
    } catch (const ControlError& e) {
        EXPECT_THAT(e.what(), HasSubstr("no SHA256 list"));
    }
}

TEST(DebRelease, MalformedHashLineIsRefused) {
    EXPECT_THROW((void)parse_release("Suite: x\nSHA256:\n nothex 12 main/Packages\n", "r"),
                 ControlError);
    EXPECT_THROW((void)parse_release("Suite: x\nValid-Until: tomorrow\nSHA256:\n", "r"),
                 ControlError);
}

} // namespace
} // namespace distill::distro::debian
