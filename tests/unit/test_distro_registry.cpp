// The distro seam: the registry that picks a distro's implementation from the manifest, the
// data every nameable distro has, and what the Debian implementation answers through it.
#include <algorithm>
#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <distill/core/fs.hpp>
#include <distill/distro/distro.hpp>
#include <distill/distro/facts.hpp>
#include <distill/manifest/manifest.hpp>
#include <distill/resolve/policy.hpp>

#include "apk_support.hpp"
#include "support.hpp"

namespace distill::distro {
namespace {

using manifest::Distro;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(DistroRegistry, DebianIsImplementedAndRegisteredOnce) {
    const auto& debian = get(Distro::debian);
    EXPECT_EQ(debian.id(), Distro::debian);
    EXPECT_EQ(find(Distro::debian), &debian);
    EXPECT_EQ(std::count(all().begin(), all().end(), &debian), 1);
    for (const auto* distro : all()) {
        EXPECT_EQ(&get(distro->id()), distro);
    }
}

TEST(DistroRegistry, AlpineIsImplementedAndRegisteredOnce) {
    const auto& alpine = get(Distro::alpine);
    EXPECT_EQ(alpine.id(), Distro::alpine);
    EXPECT_EQ(find(Distro::alpine), &alpine);
    EXPECT_EQ(std::count(all().begin(), all().end(), &alpine), 1);
    EXPECT_NE(&alpine, &get(Distro::debian));
    EXPECT_THAT(manifest::default_suites(Distro::alpine, "v3.19"), ElementsAre("v3.19"));
    // Its policy is its own data: busybox and apk stay out, libraries stay in.
    const auto policy = resolve::ExclusionPolicy::distroless(Distro::alpine);
    EXPECT_TRUE(policy.reason_for("busybox").has_value());
    EXPECT_TRUE(policy.reason_for("apk-tools").has_value());
    EXPECT_FALSE(policy.reason_for("musl").has_value());
    EXPECT_EQ(alpine.package_database(), "lib/apk/db/installed");
    EXPECT_LT(alpine.compare_versions("1.2.4_rc1-r0", "1.2.4-r0"), 0);
}

TEST(DistroFacts, PackageNameGrammarPerDistro) {
    const auto& debian = facts(Distro::debian);
    const auto& alpine = facts(Distro::alpine);
    EXPECT_TRUE(valid_package_name(debian, "libstdc++6"));
    EXPECT_FALSE(valid_package_name(debian, "LibSSL3"));
    EXPECT_FALSE(valid_package_name(debian, "font_noto"));
    EXPECT_FALSE(valid_package_name(debian, "c"));
    EXPECT_TRUE(valid_package_name(alpine, "py3-Pillow"));
    EXPECT_TRUE(valid_package_name(alpine, "font_noto"));
    EXPECT_FALSE(valid_package_name(alpine, "-x"));
    EXPECT_THAT(manifest::default_suites(Distro::debian, "trixie"),
                ElementsAre("trixie", "trixie-updates", "trixie-security"));
}

TEST(DistroDebian, AnswersThroughTheInterface) {
    const auto& debian = get(Distro::debian);
    EXPECT_FALSE(debian.example_release().empty());
    // Versions in dpkg's order, not as strings.
    EXPECT_LT(debian.compare_versions("1.0-2", "1.0-10"), 0);
    EXPECT_LT(debian.compare_versions("1.0~rc1", "1.0"), 0);
    EXPECT_GT(debian.compare_versions("1:0.9", "2.0"), 0);
    // Merged /usr from bookworm on.
    EXPECT_TRUE(debian.merged_usr("bookworm"));
    EXPECT_TRUE(debian.merged_usr("trixie"));
    EXPECT_FALSE(debian.merged_usr("buster"));
    // The exclusion policy is data, and a shell is in it.
    const auto rules = debian.exclusion_rules();
    const auto bash = std::find_if(rules.begin(), rules.end(),
                                   [](const PolicyRule& rule) { return rule.pattern == "bash"; });
    ASSERT_NE(bash, rules.end());
    EXPECT_EQ(bash->reason, "shell");
    // Pins follow dpkg's version syntax.
    manifest::PackageRequest pin{"curl", "7.88.1-10", "=", {}, {}};
    EXPECT_EQ(debian.check_request(pin), std::nullopt);
    pin.version = "beta-1";
    const auto problem = debian.check_request(pin);
    ASSERT_TRUE(problem.has_value());
    EXPECT_THAT(problem->message, HasSubstr("is not a Debian version"));
    // Debian requests take an exact version and no repository tag.
    const auto relation = debian.check_request({"curl", "7.88", ">=", {}, {}});
    ASSERT_TRUE(relation.has_value());
    EXPECT_THAT(relation->message, HasSubstr("exact version only"));
    const auto tagged = debian.check_request({"curl", {}, {}, "testing", {}});
    ASSERT_TRUE(tagged.has_value());
    EXPECT_THAT(tagged->message, HasSubstr("no pinned repositories"));
    // Alpine requests take apk's relations and tags.
    const auto& alpine = get(Distro::alpine);
    EXPECT_EQ(alpine.check_request({"python3", "3.11", "~", {}, {}}), std::nullopt);
    EXPECT_EQ(alpine.check_request({"python3", "3.11.8-r0", ">=", "edge", {}}), std::nullopt);
    EXPECT_EQ(alpine.check_request({"python3", {}, {}, "edge", {}}), std::nullopt);
    const auto checksum = alpine.check_request({"zlib", "Q1abc", "><", {}, {}});
    ASSERT_TRUE(checksum.has_value());
    EXPECT_THAT(checksum->message, HasSubstr("not a version relation"));
    EXPECT_FALSE(debian.index_loader().cache_format().empty());
}

TEST(DistroAlpine, ApksConfigurationNamesTheRepositoriesWithTheirTagsAndTheirKeys) {
    const test::ScratchDir scratch;
    const test::apk::TestKey test_key;
    const auto key = scratch.path() / "keys" / "test.rsa.pub";
    std::filesystem::create_directories(key.parent_path());
    core::write_file_atomic(key, test_key.pem());
    core::write_file_atomic(scratch.path() / "keys" / "README", "not a key\n");
    manifest::Manifest manifest;
    manifest.name = "app";
    manifest.distro = Distro::alpine;
    manifest.release = "v3.19";
    manifest::Source main;
    main.url = "https://mirror.example.org/alpine";
    main.components = {"main", "community"};
    main.keyring = key.parent_path();
    auto edge = main;
    edge.suites = {"edge"};
    edge.components = {"testing"};
    edge.tag = "testing";
    edge.keyring = key;
    manifest.sources = {main, edge};
    const auto files = get(Distro::alpine).package_manager_files(manifest::with_defaults(manifest));
    ASSERT_EQ(files.size(), 2U);
    EXPECT_EQ(files[0].first, "etc/apk/repositories");
    EXPECT_EQ(files[0].second, "https://mirror.example.org/alpine/v3.19/main\n"
                               "https://mirror.example.org/alpine/v3.19/community\n"
                               "@testing https://mirror.example.org/alpine/edge/testing\n");
    EXPECT_EQ(files[1].first, "etc/apk/keys/test.rsa.pub");
    EXPECT_EQ(files[1].second, test_key.pem());
    // Debian's image has dpkg's database only.
    EXPECT_TRUE(get(Distro::debian).package_manager_files(manifest).empty());
}

TEST(DistroAlpine, TheInstalledDatabaseReadsBack) {
    const auto& alpine = get(Distro::alpine);
    const auto packages = alpine.read_package_database(
        "C:Q1kqFQHSGzXGq3k7gQTqb+GxbmnOw=\nP:musl\nV:1.2.4_git20230717-r4\nA:x86_64\n"
        "S:407278\nI:667648\no:musl\nF:lib\nR:ld-musl-x86_64.so.1\na:0:0:755\n"
        "Z:Q1dmNiO/0ArdXiX7nlvY3tt4ZvpNY=\n\n"
        "C:Q11mV5+Yq5WHkhWIJP27rBrg7izKg=\nP:zlib\nV:1.3.1-r0\nA:x86_64\nS:53932\nI:110592\n\n");
    ASSERT_EQ(packages.size(), 2U);
    EXPECT_EQ(packages[0].name, "musl");
    EXPECT_EQ(packages[0].version, "1.2.4_git20230717-r4");
    EXPECT_EQ(packages[0].arch, "x86_64");
    EXPECT_EQ(packages[0].installed_size, 667648U);
    EXPECT_EQ(packages[1].source, "zlib"); // no origin: its own name
}

TEST(DistroDebian, ThePackageDatabaseReadsBack) {
    const auto& debian = get(Distro::debian);
    EXPECT_EQ(debian.package_database(), "var/lib/dpkg/status");
    const auto packages =
        debian.read_package_database("Package: libssl3\nStatus: install ok installed\n"
                                     "Source: openssl (3.0.15-1)\nVersion: 3.0.15-1+b1\n"
                                     "Architecture: amd64\nInstalled-Size: 6\n\n"
                                     "Package: zlib1g\nVersion: 1:1.2.13\nArchitecture: amd64\n");
    ASSERT_EQ(packages.size(), 2U);
    EXPECT_EQ(packages[0].name, "libssl3");
    EXPECT_EQ(packages[0].source, "openssl");
    EXPECT_EQ(packages[0].version, "3.0.15-1+b1");
    EXPECT_EQ(packages[0].installed_size, 6U * 1024U);
    EXPECT_EQ(packages[1].source, "zlib1g");
}

TEST(DistroValidate, TheDistrosRulesJoinTheGenericChecks) {
    manifest::Manifest manifest;
    manifest.name = "app";
    manifest.release = "bookworm";
    manifest.keys["distro"] = {};
    manifest.packages.push_back({"curl", "beta-1", "=", {}, {"m.yaml", 4, 12}});
    try {
        validate(manifest);
        FAIL() << "accepted a pin that is no Debian version";
    } catch (const manifest::ManifestError& e) {
        ASSERT_EQ(e.diagnostics().size(), 1U) << e.what();
        EXPECT_THAT(e.diagnostics()[0].message, HasSubstr("is not a Debian version"));
    }
    // Alpine's rules take Alpine's version syntax.
    manifest.distro = Distro::alpine;
    manifest.release = "v3.19";
    try {
        validate(manifest);
        FAIL() << "accepted a pin that is no apk version";
    } catch (const manifest::ManifestError& e) {
        ASSERT_EQ(e.diagnostics().size(), 1U) << e.what();
        EXPECT_THAT(e.diagnostics()[0].message, HasSubstr("is not an apk version"));
    }
    manifest.packages.back().version = "8.5.0-r0";
    EXPECT_NO_THROW(validate(manifest));
}

} // namespace
} // namespace distill::distro
