#include <cstdlib>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <distill/core/error.hpp>
#include <distill/distro/debian/host.hpp>

#include "support.hpp"

namespace distill::distro::debian {
namespace {

using ::testing::ElementsAre;

class AptSources : public test::ScratchTest {
protected:
    void SetUp() override {
        // The environment overrides apt sources; these tests are about the files.
        unsetenv("DISTILL_DEBIAN_MIRROR");
        unsetenv("DISTILL_DEBIAN_SECURITY_MIRROR");
    }
};

TEST_F(AptSources, ReadsDeb822AndOneLineFormats) {
    write("apt/sources.list",
          "# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://one.invalid/debian "
          "bookworm main contrib\ndeb-src http://src.invalid/debian bookworm main\n");
    write("apt/sources.list.d/debian.sources",
          "Types: deb\nURIs: http://two.invalid/debian/\nSuites: bookworm bookworm-updates\n"
          "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
          "Types: deb\nURIs: http://two.invalid/debian-security\nSuites: bookworm-security\n"
          "Components: main\n\nTypes: deb\nEnabled: no\nURIs: http://off.invalid\nSuites: x\n");
    const auto entries = read_apt_sources(scratch() / "apt");
    ASSERT_EQ(entries.size(), 3U);
    EXPECT_THAT(entries[0].uris, ElementsAre("http://one.invalid/debian"));
    EXPECT_THAT(entries[0].components, ElementsAre("main", "contrib"));
    EXPECT_EQ(entries[0].signed_by, "/k.gpg");
    EXPECT_THAT(entries[1].suites, ElementsAre("bookworm", "bookworm-updates"));
    EXPECT_THAT(entries[2].uris, ElementsAre("http://two.invalid/debian-security"));
}

TEST_F(AptSources, DefaultMirrorsComeFromTheHostsEntries) {
    write("apt/sources.list.d/debian.sources",
          "Types: deb\nURIs: http://mirror.invalid/debian/\nSuites: bookworm bookworm-updates\n"
          "Components: main\n\nTypes: deb\nURIs: http://security.invalid/debian-security\n"
          "Suites: bookworm-security\nComponents: main\n");
    const auto mirrors = default_mirrors("bookworm", scratch() / "apt");
    EXPECT_EQ(mirrors.archive, "http://mirror.invalid/debian");
    EXPECT_EQ(mirrors.security, "http://security.invalid/debian-security");
}

TEST_F(AptSources, SecurityMirrorFallsBackToDebiansLayout) {
    write("apt/sources.list", "deb http://mirror.invalid/debian trixie main\n");
    const auto mirrors = default_mirrors("bookworm", scratch() / "apt");
    EXPECT_EQ(mirrors.archive, "http://mirror.invalid/debian");
    EXPECT_EQ(mirrors.security, "http://mirror.invalid/debian-security");
}

TEST_F(AptSources, EnvironmentWins) {
    write("apt/sources.list",
          "deb http://mirror.invalid/debian bookworm main\n"
          "deb http://security.invalid/debian-security bookworm-security main\n");
    setenv("DISTILL_DEBIAN_MIRROR", "http://env.invalid/debian/", 1);
    auto mirrors = default_mirrors("bookworm", scratch() / "apt");
    EXPECT_EQ(mirrors.archive, "http://env.invalid/debian");
    EXPECT_EQ(mirrors.security, "http://security.invalid/debian-security");
    setenv("DISTILL_DEBIAN_SECURITY_MIRROR", "http://env.invalid/security", 1);
    mirrors = default_mirrors("bookworm", scratch() / "apt");
    unsetenv("DISTILL_DEBIAN_MIRROR");
    unsetenv("DISTILL_DEBIAN_SECURITY_MIRROR");
    EXPECT_EQ(mirrors.security, "http://env.invalid/security");
}

TEST_F(AptSources, NoMirrorAtAllSaysHowToConfigureOne) {
    try {
        (void)default_mirrors("bookworm", scratch() / "empty");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), ::testing::HasSubstr("DISTILL_DEBIAN_MIRROR"));
    }
}

} // namespace
} // namespace distill::distro::debian
