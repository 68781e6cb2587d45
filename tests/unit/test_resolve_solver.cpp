// Solver cases on small libsolv testtags fixtures (tests/data/solver): alternatives, virtual
// packages, pins and version relations, exclusions, conflicts, unsolvable requests.
#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <distill/core/cache.hpp>
#include <distill/core/digest.hpp>
#include <distill/resolve/resolve.hpp>

#include "support.hpp"

namespace distill::resolve {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class ResolveSolver : public ::testing::Test {
protected:
    /// Resolves `packages` ("name" or "name=version") from one fixture with `policy`.
    Resolution run(const std::string& fixture, const std::vector<std::string>& packages,
                   ExclusionPolicy policy = {}) {
        Request request;
        request.arch = "amd64";
        for (const auto& spec : packages) {
            const auto equals = spec.find('=');
            manifest::PackageRequest package;
            package.name = spec.substr(0, equals);
            if (equals != std::string::npos) {
                package.version = spec.substr(equals + 1);
            }
            request.packages.push_back(package);
        }
        request.policy = std::move(policy);
        const RepoInput input{fixture,
                              IndexFormat::testtags,
                              test::fixture_dir() / "solver" / (fixture + ".testtags"),
                              {},
                              {},
                              {},
                              {},
                              {}};
        core::NullReporter reporter;
        return resolve(request, {input}, Options{}, reporter);
    }

    static std::vector<std::string> names(const Plan& plan) {
        std::vector<std::string> result;
        for (const auto& package : plan.packages) {
            result.push_back(package.name);
        }
        std::sort(result.begin(), result.end());
        return result;
    }

    static const PlannedPackage& find(const Plan& plan, const std::string& name) {
        for (const auto& package : plan.packages) {
            if (package.name == name) {
                return package;
            }
        }
        throw std::runtime_error("not in plan: " + name);
    }
};

TEST_F(ResolveSolver, FirstInstallableAlternativeWins) {
    const auto result = run("alternatives", {"app"});
    ASSERT_TRUE(result.solved());
    // mawk-like is the first alternative; only-second does not exist, so present is taken.
    EXPECT_THAT(names(result.plan), ElementsAre("app", "mawk-like", "present"));
}

TEST_F(ResolveSolver, VirtualDependencyIsSatisfiedByOneProvider) {
    const auto result = run("virtuals", {"mailer-app"});
    ASSERT_TRUE(result.solved());
    const auto got = names(result.plan);
    ASSERT_EQ(got.size(), 2U);
    const auto providers = std::count(got.begin(), got.end(), "postfix") +
                           std::count(got.begin(), got.end(), "exim4-daemon-light");
    EXPECT_EQ(providers, 1) << "exactly one mail-transport-agent, not both and not none";
    EXPECT_EQ(std::count(got.begin(), got.end(), "mailer-app"), 1);
}

TEST_F(ResolveSolver, VersionedProvidesAreHonoured) {
    const auto result = run("virtuals", {"versioned-user"});
    ASSERT_TRUE(result.solved());
    EXPECT_THAT(names(result.plan), ElementsAre("jre-17", "versioned-user"));
}

TEST_F(ResolveSolver, RequestingAVirtualNameListsItsProviders) {
    const auto result = run("virtuals", {"mail-transport-agent"});
    ASSERT_FALSE(result.solved());
    ASSERT_EQ(result.problems.size(), 1U);
    EXPECT_THAT(result.problems[0].summary, HasSubstr("mail-transport-agent is a virtual package"));
    EXPECT_THAT(result.problems[0].summary, HasSubstr("exim4-daemon-light, postfix"));
}

TEST_F(ResolveSolver, NewestVersionByDefault) {
    const auto result = run("pins", {"libssl3"});
    ASSERT_TRUE(result.solved());
    EXPECT_EQ(find(result.plan, "libssl3").version, "3.0.17-1~deb12u2");
}

TEST_F(ResolveSolver, PinSelectsTheOlderVersion) {
    const auto result = run("pins", {"libssl3=3.0.15-1~deb12u1"});
    ASSERT_TRUE(result.solved());
    EXPECT_EQ(find(result.plan, "libssl3").version, "3.0.15-1~deb12u1");
}

TEST_F(ResolveSolver, PinToAMissingVersionListsTheAvailableOnes) {
    const auto result = run("pins", {"libssl3=9.9-9"});
    ASSERT_FALSE(result.solved());
    EXPECT_THAT(result.problems[0].summary, HasSubstr("libssl3 has no version 9.9-9"));
    EXPECT_THAT(result.problems[0].summary, HasSubstr("3.0.15-1~deb12u1, 3.0.17-1~deb12u2"));
}

TEST_F(ResolveSolver, VersionRelationsPickAMatchingVersion) {
    const auto old_result = run("pins", {"needs-old"});
    ASSERT_TRUE(old_result.solved());
    EXPECT_EQ(find(old_result.plan, "libssl3").version, "3.0.15-1~deb12u1");
    const auto new_result = run("pins", {"needs-new"});
    ASSERT_TRUE(new_result.solved());
    EXPECT_EQ(find(new_result.plan, "libssl3").version, "3.0.17-1~deb12u2");
}

TEST_F(ResolveSolver, PinThatContradictsADependencyIsAConflict) {
    const auto result = run("pins", {"needs-new", "libssl3=3.0.15-1~deb12u1"});
    ASSERT_FALSE(result.solved());
    ASSERT_FALSE(result.problems.empty());
    std::string all;
    for (const auto& problem : result.problems) {
        all += problem.summary + "\n";
        for (const auto& detail : problem.details) {
            all += detail + "\n";
        }
    }
    EXPECT_THAT(all, HasSubstr("libssl3"));
    EXPECT_THAT(all, HasSubstr("needs-new"));
}

TEST_F(ResolveSolver, UnsatisfiableVersionRelationIsExplained) {
    const auto result = run("pins", {"needs-impossible"});
    ASSERT_FALSE(result.solved());
    EXPECT_THAT(
        result.problems[0].summary,
        HasSubstr("needs-impossible 1.0-1 needs libssl3 (>= 4.0), which no source provides"));
}

TEST_F(ResolveSolver, ExcludedDependenciesAreSatisfiedWithoutInstallingThem) {
    const auto result =
        run("exclusions", {"runtime"}, ExclusionPolicy::distroless(manifest::Distro::debian));
    ASSERT_TRUE(result.solved());
    // dash and debconf are stubbed out: neither they nor their own dependencies
    // (debianutils, perl-base) are installed, and no real alternative (cdebconf) is pulled in
    // to replace them.
    EXPECT_THAT(names(result.plan), ElementsAre("libc6", "runtime"));
    std::vector<std::string> excluded;
    for (const auto& e : result.plan.excluded) {
        excluded.push_back(e.name);
        EXPECT_THAT(e.wanted_by, ElementsAre("runtime")) << e.name;
        EXPECT_FALSE(e.reason.empty());
    }
    EXPECT_THAT(excluded, ElementsAre("dash", "debconf"));
    EXPECT_EQ(result.plan.excluded[0].reason, "shell");
}

TEST_F(ResolveSolver, RequestingAnInterpreterBringsItsFamilyBack) {
    auto policy = ExclusionPolicy::distroless(manifest::Distro::debian);
    policy.request("perl-script");
    policy.request("perl-base");
    const auto result = run("exclusions", {"perl-script", "perl-base"}, policy);
    ASSERT_TRUE(result.solved());
    EXPECT_THAT(names(result.plan), ElementsAre("perl-base", "perl-script"));
    EXPECT_THAT(result.plan.excluded, IsEmpty());
}

TEST_F(ResolveSolver, ExcludedVirtualProvidesStillSatisfyDependencies) {
    // perl-script needs perlapi-5.36.0, which only the excluded perl-base provides.
    const auto result =
        run("exclusions", {"perl-script"}, ExclusionPolicy::distroless(manifest::Distro::debian));
    ASSERT_TRUE(result.solved());
    EXPECT_THAT(names(result.plan), ElementsAre("perl-script"));
    ASSERT_EQ(result.plan.excluded.size(), 1U);
    EXPECT_EQ(result.plan.excluded[0].name, "perl-base");
    EXPECT_EQ(result.plan.excluded[0].reason, "interpreter not asked for");
}

TEST_F(ResolveSolver, AllowTakesANameOutOfThePolicy) {
    auto policy = ExclusionPolicy::distroless(manifest::Distro::debian);
    policy.allow("dash");
    const auto result = run("exclusions", {"runtime"}, policy);
    ASSERT_TRUE(result.solved());
    // dash comes in; what dash needs is still subject to the policy.
    EXPECT_THAT(names(result.plan), ElementsAre("dash", "libc6", "runtime"));
    ASSERT_EQ(result.plan.excluded.size(), 2U);
    EXPECT_EQ(result.plan.excluded[1].name, "debianutils");
    EXPECT_THAT(result.plan.excluded[1].wanted_by, ElementsAre("dash"));
}

TEST_F(ResolveSolver, ConflictsAreExplained) {
    const auto result = run("conflicts", {"wants-both"});
    ASSERT_FALSE(result.solved());
    EXPECT_THAT(result.problems[0].summary,
                HasSubstr("daemon-a 1.0-1 conflicts with daemon-b 2.0-1"));
}

TEST_F(ResolveSolver, MissingDependencyIsExplainedInTheUsersTerms) {
    const auto result = run("missing", {"mopidy"});
    ASSERT_FALSE(result.solved());
    ASSERT_EQ(result.problems.size(), 1U);
    EXPECT_EQ(result.problems[0].summary,
              "mopidy 3.4.2-2 needs python3-gst-1.0, which no source provides");
}

TEST_F(ResolveSolver, UnknownPackageSuggestsCloseNames) {
    const auto result = run("missing", {"openjdk-17-jre-headles"});
    ASSERT_FALSE(result.solved());
    EXPECT_THAT(result.problems[0].summary, HasSubstr("no package named openjdk-17-jre-headles"));
    ASSERT_FALSE(result.problems[0].details.empty());
    EXPECT_THAT(result.problems[0].details[0], HasSubstr("did you mean openjdk-17-jre-headless?"));
}

TEST_F(ResolveSolver, AnyQualifierIsSatisfiedByThePackageItself) {
    const auto result = run("multiarch", {"py-tool"});
    ASSERT_TRUE(result.solved());
    EXPECT_THAT(names(result.plan), ElementsAre("py-tool", "python3"));
}

TEST_F(ResolveSolver, PackagesOfAnotherArchitectureAreNotInstallable) {
    const auto result = run("multiarch", {"foreign-arch-only"});
    EXPECT_FALSE(result.solved());
}

TEST_F(ResolveSolver, WhyIsTheDependencyChainFromARequest) {
    const auto result = run("chain", {"top"});
    ASSERT_TRUE(result.solved());
    EXPECT_THAT(find(result.plan, "top").why, ElementsAre("top"));
    EXPECT_THAT(find(result.plan, "bottom").why, ElementsAre("top", "middle", "bottom"));
    EXPECT_THAT(find(result.plan, "base-lib").why,
                ElementsAre("top", "middle", "bottom", "base-lib"));
}

TEST_F(ResolveSolver, WhyIsTheShortestChainWhenThereAreSeveral) {
    const auto result = run("chain", {"top", "second-root"});
    ASSERT_TRUE(result.solved());
    EXPECT_THAT(find(result.plan, "second-root").why, ElementsAre("second-root"));
    EXPECT_THAT(find(result.plan, "middle").why, ElementsAre("top", "middle"));
    // second-root needs bottom directly: shorter than top > middle > bottom.
    EXPECT_THAT(find(result.plan, "bottom").why, ElementsAre("second-root", "bottom"));
}

TEST_F(ResolveSolver, RecommendsAreNotInstalledAndDependenciesComeFirst) {
    const auto result = run("chain", {"top"});
    ASSERT_TRUE(result.solved());
    std::vector<std::string> order;
    for (const auto& package : result.plan.packages) {
        order.push_back(package.name);
    }
    EXPECT_THAT(order, ElementsAre("base-lib", "bottom", "middle", "top"));
}

TEST_F(ResolveSolver, SolverDebugWritesALibsolvTestcase) {
    const core::TempDir dir("distill-solver-debug-");
    Request request;
    request.arch = "amd64";
    request.packages.push_back(manifest::PackageRequest{"mopidy", "", "", "", {}});
    const RepoInput input{"missing",
                          IndexFormat::testtags,
                          test::fixture_dir() / "solver" / "missing.testtags",
                          {},
                          {},
                          {},
                          {},
                          {}};
    Options options;
    options.solver_debug_dir = dir.path() / "case";
    core::NullReporter reporter;
    const auto result = resolve(request, {input}, options, reporter);
    EXPECT_FALSE(result.solved());
    const auto testcase = core::read_file(dir.path() / "case" / "testcase.t");
    EXPECT_THAT(testcase, HasSubstr("job install"));
    EXPECT_THAT(testcase, HasSubstr("result transaction,problems"));
}

TEST_F(ResolveSolver, PolicyGlobsAndAllowances) {
    auto policy = ExclusionPolicy::distroless(manifest::Distro::debian);
    EXPECT_EQ(policy.reason_for("perl-modules-5.36").value_or(""), "interpreter not asked for");
    EXPECT_EQ(policy.reason_for("bash").value_or(""), "shell");
    EXPECT_FALSE(policy.reason_for("libc6").has_value());
    policy.request("python3");
    EXPECT_FALSE(policy.reason_for("python3.11-minimal").has_value());
    EXPECT_FALSE(policy.reason_for("libpython3.11-stdlib").has_value());
    EXPECT_TRUE(policy.reason_for("perl-base").has_value());
    const auto excluded = policy.excluded_among({"bash", "libc6", "perl-modules-5.36", "python3"});
    EXPECT_THAT(std::vector<std::string>(excluded.begin(), excluded.end()),
                ElementsAre("bash", "perl-modules-5.36"));
}

} // namespace
} // namespace distill::resolve

namespace distill::resolve {
namespace {

// The same resolver on a Packages file in Debian's own format
// (tests/data/solver/priority.Packages): the real loader, with the fields libsolv does not keep
// (Size, Priority).
class ResolveDebPackages : public test::ScratchTest {
protected:
    Resolution run(const std::vector<std::string>& packages, ExclusionPolicy policy = {},
                   const core::Cache* cache = nullptr) {
        Request request;
        request.arch = "amd64";
        for (const auto& name : packages) {
            request.packages.push_back(manifest::PackageRequest{name, "", "", "", {}});
        }
        request.policy = std::move(policy);
        const auto index = test::fixture_dir() / "solver" / "priority.Packages";
        const RepoInput input{"bookworm/main",
                              IndexFormat::deb_packages,
                              index,
                              {},
                              core::file_hex_digest(index),
                              "http://archive.invalid/debian",
                              "bookworm",
                              {}};
        Options options;
        options.cache = cache;
        core::NullReporter reporter;
        return resolve(request, {input}, options, reporter);
    }
};

TEST_F(ResolveDebPackages, SizesHashesAndUrlsComeFromTheIndex) {
    const auto result = run({"base-files"}, ExclusionPolicy::distroless(manifest::Distro::debian));
    ASSERT_TRUE(result.solved());
    ASSERT_EQ(result.plan.packages.size(), 1U);
    const auto& base = result.plan.packages[0];
    EXPECT_EQ(base.version, "12.4+deb12u15");
    EXPECT_EQ(base.download_size, 70936U);
    EXPECT_EQ(base.installed_size, 341U * 1024U);
    EXPECT_EQ(base.sha256, "1a7f6c1b7d6c3c0e8f9f1e6b2d3c4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f");
    EXPECT_EQ(
        base.url,
        "http://archive.invalid/debian/pool/main/b/base-files/base-files_12.4+deb12u15_amd64.deb");
    EXPECT_EQ(base.suite, "bookworm");
}

TEST_F(ResolveDebPackages, VirtualNameGoesToTheHighestPriorityProvider) {
    // awk: mawk is Priority required, gawk optional (and first by name); apt takes mawk.
    const auto result = run({"base-files"}, ExclusionPolicy::distroless(manifest::Distro::debian));
    ASSERT_TRUE(result.solved());
    ASSERT_EQ(result.plan.excluded.size(), 1U);
    EXPECT_EQ(result.plan.excluded[0].name, "mawk");
    EXPECT_EQ(result.plan.excluded[0].reason, "interpreter not asked for");
    EXPECT_THAT(result.plan.excluded[0].wanted_by, ElementsAre("base-files"));

    const auto open = run({"base-files"});
    ASSERT_TRUE(open.solved());
    std::vector<std::string> names;
    for (const auto& package : open.plan.packages) {
        names.push_back(package.name);
    }
    EXPECT_THAT(names, ElementsAre("libc6", "mawk", "base-files"));
}

TEST_F(ResolveDebPackages, AlternativesFollowDebianOrderNotNames) {
    const auto result = run({"mail-user"});
    ASSERT_TRUE(result.solved());
    std::vector<std::string> names;
    for (const auto& package : result.plan.packages) {
        names.push_back(package.name);
    }
    std::sort(names.begin(), names.end());
    // postfix (standard) over exim4-daemon-light (optional); zz-first over aa-second.
    EXPECT_THAT(names, ElementsAre("mail-user", "postfix", "zz-first"));
}

TEST_F(ResolveDebPackages, ParsedIndexCacheGivesTheSameAnswer) {
    const core::Cache cache(scratch() / "cache");
    const auto cold = run({"base-files", "mail-user"}, {}, &cache);
    ASSERT_TRUE(cold.solved());
    // The parsed form is now cached; the second run reads it instead of the index.
    const auto cached_files =
        std::distance(std::filesystem::directory_iterator(scratch() / "cache" / "derived" / "solv"),
                      std::filesystem::directory_iterator());
    EXPECT_EQ(cached_files, 1);
    const auto warm = run({"base-files", "mail-user"}, {}, &cache);
    ASSERT_TRUE(warm.solved());
    EXPECT_EQ(to_json(cold.plan), to_json(warm.plan));
    EXPECT_EQ(warm.plan.packages.front().download_size, cold.plan.packages.front().download_size);
}

} // namespace
} // namespace distill::resolve
