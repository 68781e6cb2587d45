// Debian changelogs: the entries, and the fixes (CVEs, closed bugs) between two versions that
// `distill diff` reports.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <distill/distro/debian/changelog.hpp>

namespace distill::distro::debian {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr const char* k_changelog = R"(openssl (3.0.17-1~deb12u2) bookworm-security; urgency=medium

  * Non-maintainer upload by the Security Team.
  * CVE-2025-9230 (out-of-bounds read and write in RFC 3211 KEK unwrap)
  * CVE-2025-9232: out-of-bounds read in HTTP client no_proxy handling
    (Closes: #1116000)

 -- Someone <someone@debian.org>  Tue, 30 Sep 2025 10:00:00 +0200

openssl (3.0.17-1~deb12u1) bookworm; urgency=medium

  * New upstream release. Closes: #1105000, #1105001
  * CVE-2025-9230 is mentioned again, and CVE-2025-27587.

 -- Someone <someone@debian.org>  Mon, 01 Jul 2025 10:00:00 +0200

openssl (3.0.15-1~deb12u1) bookworm; urgency=medium

  * CVE-2024-5535 fixed.

 -- Someone <someone@debian.org>  Mon, 01 Nov 2024 10:00:00 +0200
)";

TEST(DebChangelog, EntriesAreParsed) {
    const auto entries = parse_changelog(k_changelog);
    ASSERT_EQ(entries.size(), 3U);
    EXPECT_EQ(entries[0].source, "openssl");
    EXPECT_EQ(entries[0].version, "3.0.17-1~deb12u2");
    EXPECT_EQ(entries[0].distribution, "bookworm-security");
    EXPECT_THAT(entries[0].text, HasSubstr("Non-maintainer upload"));
    EXPECT_THAT(entries[0].text, ::testing::Not(HasSubstr(" -- ")));
}

TEST(DebChangelog, FixesBetweenTwoVersionsExcludeTheOldOne) {
    const auto entries = parse_changelog(k_changelog);
    const auto fixes = fixes_between(entries, "3.0.15-1~deb12u1", "3.0.17-1~deb12u2");
    EXPECT_THAT(fixes.versions, ElementsAre("3.0.17-1~deb12u2", "3.0.17-1~deb12u1"));
    EXPECT_THAT(fixes.cves, ElementsAre("CVE-2025-9230", "CVE-2025-9232", "CVE-2025-27587"));
    EXPECT_THAT(fixes.bugs, ElementsAre("1116000", "1105000", "1105001"));
    const auto one = fixes_between(entries, "3.0.17-1~deb12u1", "3.0.17-1~deb12u2");
    EXPECT_THAT(one.cves, ElementsAre("CVE-2025-9230", "CVE-2025-9232"));
    EXPECT_TRUE(fixes_between(entries, "3.0.17-1~deb12u2", "3.0.17-1~deb12u2").cves.empty());
}

} // namespace
} // namespace distill::distro::debian
