// The path policy: globs over image paths, and what the policy keeps and drops.

#include <gtest/gtest.h>

#include <distill/manifest/manifest.hpp>
#include <distill/unpack/path_policy.hpp>

namespace distill::unpack {
namespace {

TEST(PathGlob, ComponentsStarsAndDoubleStars) {
    EXPECT_TRUE(path_glob_match("/usr/share/doc/**", "/usr/share/doc/libc6/changelog.gz"));
    EXPECT_TRUE(path_glob_match("/usr/share/doc/**", "/usr/share/doc/libc6"));
    EXPECT_FALSE(path_glob_match("/usr/share/doc/**", "/usr/share/doc-base/x"));
    EXPECT_TRUE(path_glob_match("/usr/share/doc/*/copyright", "/usr/share/doc/libc6/copyright"));
    EXPECT_FALSE(path_glob_match("/usr/share/doc/*/copyright", "/usr/share/doc/a/b/copyright"));
    EXPECT_TRUE(path_glob_match("/usr/**/*.so.[0-9]", "/usr/lib/x86_64-linux-gnu/libz.so.1"));
    EXPECT_TRUE(path_glob_match("usr/bin/?ava", "/usr/bin/java"));
    EXPECT_TRUE(path_glob_match("/**/.keep", "/var/.keep"));
    EXPECT_FALSE(path_glob_match("/usr/bin", "/usr/bin/java"));
}

TEST(PathGlob, PolicyDropsDocsButKeepsCopyrightAndTheManifestDecides) {
    manifest::Manifest manifest;
    manifest.paths.include = {{"/usr/share/man/man1/java.1.gz", {}}};
    manifest.paths.exclude = {{"/usr/share/zoneinfo/right/**", {}}};
    const auto policy = PathPolicy::for_manifest(manifest);
    EXPECT_FALSE(policy.keeps("/usr/share/doc/libc6/changelog.Debian.gz"));
    EXPECT_TRUE(policy.keeps("/usr/share/doc/libc6/copyright"));
    EXPECT_FALSE(policy.keeps("/usr/share/man/man1/ls.1.gz"));
    EXPECT_TRUE(policy.keeps("/usr/share/man/man1/java.1.gz"));
    EXPECT_FALSE(policy.keeps("/usr/share/locale/de/LC_MESSAGES/libc.mo"));
    EXPECT_FALSE(policy.keeps("/usr/share/lintian/overrides/libc6"));
    EXPECT_FALSE(policy.keeps("/usr/share/info/libc.info.gz"));
    EXPECT_FALSE(policy.keeps("/usr/share/zoneinfo/right/UTC"));
    EXPECT_TRUE(policy.keeps("/usr/share/zoneinfo/UTC"));
    EXPECT_TRUE(policy.keeps("/usr/lib/jvm/java-17-openjdk-amd64/lib/modules"));
}

} // namespace
} // namespace distill::unpack
