// The one table of architecture names: each distro's names, the OCI platforms and the kernel's
// machine names they stand for.
#include <set>
#include <string>
#include <tuple>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <distill/distro/arch.hpp>

namespace distill::distro {
namespace {

using manifest::Distro;
using ::testing::ElementsAre;

TEST(DistroArch, EachDistroListsItsNamesInOrder) {
    EXPECT_THAT(arch_names(Distro::debian), ElementsAre("amd64", "arm64", "armhf", "armel", "i386",
                                                        "ppc64el", "s390x", "riscv64", "mips64el"));
    EXPECT_THAT(arch_names(Distro::alpine), ElementsAre("x86_64", "aarch64", "armv7", "armhf",
                                                        "x86", "ppc64le", "s390x", "riscv64"));
}

TEST(DistroArch, NamesAreUniquePerDistroAndPlatformsTooWithinOne) {
    std::set<std::tuple<Distro, std::string_view>> names;
    std::set<std::tuple<Distro, std::string_view, std::string_view>> platforms;
    for (const auto& arch : arch_table()) {
        EXPECT_TRUE(names.emplace(arch.distro, arch.name).second) << arch.name;
        EXPECT_TRUE(platforms.emplace(arch.distro, arch.oci, arch.variant).second) << arch.name;
        EXPECT_FALSE(arch.oci.empty()) << arch.name;
    }
}

TEST(DistroArch, TheSameMachineUnderTheOtherDistrosName) {
    const auto* amd64 = find_arch(Distro::debian, "amd64");
    ASSERT_NE(amd64, nullptr);
    EXPECT_EQ(same_machine(*amd64, Distro::alpine)->name, "x86_64");
    EXPECT_EQ(same_machine(*find_arch(Distro::debian, "armhf"), Distro::alpine)->name, "armv7");
    EXPECT_EQ(same_machine(*find_arch(Distro::alpine, "x86"), Distro::debian)->name, "i386");
    // Alpine's armhf is ARMv6, which Debian does not build for; Debian's armel is ARMv5.
    EXPECT_EQ(same_machine(*find_arch(Distro::alpine, "armhf"), Distro::debian), nullptr);
    EXPECT_EQ(same_machine(*find_arch(Distro::debian, "armel"), Distro::alpine), nullptr);
    EXPECT_EQ(find_arch(Distro::debian, "x86_64"), nullptr);
}

TEST(DistroArch, OciPlatformsMapBackToTheDistrosNames) {
    for (const auto& arch : arch_table()) {
        EXPECT_EQ(arch_for_platform(arch.distro, arch.oci, arch.variant), arch.name);
    }
    // An arm image without a variant (or one Debian does not have) is armhf on Debian.
    EXPECT_EQ(arch_for_platform(Distro::debian, "arm", ""), "armhf");
    EXPECT_EQ(arch_for_platform(Distro::debian, "arm", "v6"), "armhf");
    EXPECT_EQ(arch_for_platform(Distro::debian, "arm64", ""), "arm64");
    // A platform the table does not know keeps its OCI name.
    EXPECT_EQ(arch_for_platform(Distro::debian, "loong64", ""), "loong64");
}

TEST(DistroArch, TheHostIsKnownUnderEachDistrosName) {
    for (const auto distro : {Distro::debian, Distro::alpine}) {
        const auto host = host_arch(distro);
        const auto* arch = find_arch(distro, host);
        ASSERT_NE(arch, nullptr) << host;
        EXPECT_FALSE(arch->kernel.empty());
    }
}

TEST(DistroArch, DisplayNames) {
    EXPECT_EQ(display_name(Distro::debian), "Debian");
    EXPECT_EQ(display_name(Distro::alpine), "Alpine");
}

} // namespace
} // namespace distill::distro
