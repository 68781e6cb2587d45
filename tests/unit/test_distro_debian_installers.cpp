// The signs of a package whose content its maintainer scripts make at install time, on facts
// taken from real Debian packages (bookworm's contrib and main) and on the mopidy archive's
// real .debs, whose scripts do not download anything.

#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <distill/core/cache.hpp>
#include <distill/core/digest.hpp>
#include <distill/distro/debian/deb.hpp>
#include <distill/distro/debian/installers.hpp>

#include "support.hpp"

namespace distill::distro::debian {
namespace {

using ::testing::ElementsAre;
using ::testing::Optional;

const std::map<std::string, std::string> k_no_scripts;

TEST(DebInstallers, DependencyNamesTakeEveryAlternativeWithoutVersionsOrQualifiers) {
    EXPECT_THAT(dependency_names("wget, ca-certificates, cabextract, xfonts-utils, "
                                 "debconf (>= 0.5) | debconf-2.0"),
                ElementsAre("wget", "ca-certificates", "cabextract", "xfonts-utils", "debconf",
                            "debconf-2.0"));
    EXPECT_THAT(dependency_names("python3:any (>= 3.11~),\n perl [amd64]"),
                ElementsAre("python3", "perl"));
    EXPECT_THAT(dependency_names(""), ElementsAre());
}

TEST(DebInstallers, TheIndexGivesAwayAnInstallerByItsDownloaderAndItsName) {
    // ttf-mscorefonts-installer 3.8.1, contrib/fonts.
    const std::vector<std::string> depends{"wget",         "ca-certificates", "cabextract",
                                           "xfonts-utils", "debconf",         "debconf-2.0"};
    EXPECT_THAT(
        installer_by_index(IndexFacts{"ttf-mscorefonts-installer",
                                      "Installer for Microsoft TrueType core fonts", depends}),
        Optional(std::string("it depends on wget and calls itself an installer")));
}

TEST(DebInstallers, TheIndexGivesAwayADownloaderByItsSynopsis) {
    // astrometry-data-2mass-00, contrib/science: the name says nothing, the synopsis does.
    const std::vector<std::string> depends{"astrometry.net", "curl"};
    EXPECT_THAT(installer_by_index(IndexFacts{"astrometry-data-2mass-00",
                                              "Astrometry.net 2MASS index files downloader "
                                              "(2'-2.8')",
                                              depends}),
                Optional(std::string("it depends on curl and calls itself a downloader")));
}

TEST(DebInstallers, ADownloaderDependencyAloneIsNoSign) {
    // abcde and debootstrap (main) run wget at run time; they are programs, not installers.
    const std::vector<std::string> abcde{"cd-discid", "wget", "cdparanoia"};
    EXPECT_EQ(installer_by_index(IndexFacts{"abcde", "A Better CD Encoder", abcde}), std::nullopt);
    const std::vector<std::string> debootstrap{"wget"};
    EXPECT_EQ(installer_by_index(
                  IndexFacts{"debootstrap", "Bootstrap a basic Debian system", debootstrap}),
              std::nullopt);
}

TEST(DebInstallers, AnInstallerNameAloneIsNoSign) {
    const std::vector<std::string> depends{"libc6"};
    EXPECT_EQ(
        installer_by_index(IndexFacts{"calamares-installer", "Distribution installer", depends}),
        std::nullopt);
}

TEST(DebInstallers, APostinstThatRunsADownloaderProvesIt) {
    const std::map<std::string, std::string> scripts{
        {"postinst", "#!/bin/sh\nset -e\nif ! wget --continue --tries=1 $URLROOT$ff ; then\n"
                     "  exit 1\nfi\n"}};
    const std::vector<std::string> paths{"./var/lib/msttcorefonts/cabfiles.sha256sums"};
    EXPECT_THAT(installer_by_package(PackageFacts{"Package: x\n", scripts, paths}),
                Optional(std::string("its postinst runs wget")));
}

TEST(DebInstallers, AFullPathToTheDownloaderCountsToo) {
    const std::map<std::string, std::string> scripts{
        {"config", "#!/bin/sh\n/usr/bin/curl -fsSL -o /tmp/data.tar https://x.invalid/d\n"}};
    EXPECT_THAT(installer_by_package(PackageFacts{"Package: x\n", scripts, {}}),
                Optional(std::string("its config runs curl")));
}

TEST(DebInstallers, ADownloaderNamedInACommentIsNot) {
    const std::map<std::string, std::string> scripts{
        {"postinst", "#!/bin/sh\n# Older versions ran wget here; the data ships now.\n"
                     "  # curl too\nldconfig\n"}};
    EXPECT_EQ(installer_by_package(PackageFacts{"Package: x\n", scripts, {}}), std::nullopt);
}

TEST(DebInstallers, ADownloadListProvesItWithoutAnyScript) {
    const std::vector<std::string> paths{"./usr/share/package-data-downloads/",
                                         "./usr/share/package-data-downloads/flashplugin"};
    EXPECT_THAT(installer_by_package(PackageFacts{"Package: x\n", k_no_scripts, paths}),
                Optional(std::string("it lists files to download at install time in "
                                     "/usr/share/package-data-downloads/flashplugin")));
}

TEST(DebInstallers, AScriptRunningAShippedHelperIsKnownByTheControlFile) {
    // google-android-sdk-docs-installer copies its Makefile and runs make, which runs wget.
    const std::string control = "Package: google-android-sdk-docs-installer\n"
                                "Depends: wget, unzip, ca-certificates, make | build-essential\n"
                                "Description: Android SDK Documentation from Google\n"
                                " Long text.\n";
    const std::map<std::string, std::string> scripts{
        {"config", "#!/bin/sh\n. /usr/share/debconf/confmodule\n"},
        {"postinst", "#!/bin/sh\nmake -C /var/cache/google-android-sdk-docs-installer/ install\n"}};
    EXPECT_THAT(installer_by_package(PackageFacts{control, scripts, {}}),
                Optional(std::string("it has a config script, depends on wget and calls itself "
                                     "an installer")));
}

TEST(DebInstallers, AnInstallerWithoutScriptsDownloadsAtRunTimeNotAtInstall) {
    // pokemmo-installer downloads when it is run; its package has no maintainer script.
    const std::string control = "Package: pokemmo-installer\nDepends: default-jre, wget\n"
                                "Description: Installer and Launcher for the PokeMMO emulator\n";
    const std::vector<std::string> paths{"./usr/games/pokemmo-installer"};
    EXPECT_EQ(installer_by_package(PackageFacts{control, k_no_scripts, paths}), std::nullopt);
}

class DebInstallersReal : public test::ScratchTest {};

TEST_F(DebInstallersReal, RealPackagesWithScriptsThatDownloadNothingAreNotFlagged) {
    DISTILL_REQUIRE_TESTDATA("deb/mopidy-repo/pool/main/m/mopidy/mopidy_3.4.2-2_all.deb");
    const core::Cache cache(scratch() / "cache");
    const auto path =
        test::testdata_dir() / "deb/mopidy-repo/pool/main/m/mopidy/mopidy_3.4.2-2_all.deb";
    const auto package =
        unpack_deb(DebInput{path, core::file_hex_digest(path), "mopidy 3.4.2-2", {}}, cache);
    // The scripts that run at install time are kept, and only those.
    std::vector<std::string> names;
    for (const auto& [name, text] : package.scripts) {
        names.push_back(name);
        EXPECT_TRUE(text.starts_with("#!")) << name;
    }
    EXPECT_THAT(names, ElementsAre("config", "postinst", "preinst"));
    std::vector<std::string> paths;
    for (const auto& entry : package.entries) {
        paths.push_back(entry.path);
    }
    EXPECT_EQ(installer_by_package(PackageFacts{package.control, package.scripts, paths}),
              std::nullopt);

    // The cached form keeps them too.
    const auto again =
        unpack_deb(DebInput{path, core::file_hex_digest(path), "mopidy 3.4.2-2", {}}, cache);
    EXPECT_EQ(again.scripts, package.scripts);
}

} // namespace
} // namespace distill::distro::debian
