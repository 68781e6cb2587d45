// The YAML guard in front of yaml-cpp: libyaml's located syntax errors, the bounds on size,
// nesting and node count, and the trial parse in a child process that ends a yaml-cpp hang in
// bounded time and memory, and at once on cancellation.
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <distill/core/cancel.hpp>
#include <distill/core/error.hpp>
#include <distill/manifest/reader.hpp>
#include <distill/manifest/yaml_guard.hpp>

namespace distill::manifest::detail {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using Clock = std::chrono::steady_clock;

// A document that starts with a flow-entry comma: yaml-cpp 0.7 loops on it forever,
// allocating as it goes.
constexpr const char* k_hang = ", a\n";

std::string repeated(std::string_view piece, std::size_t times) {
    std::string out;
    for (std::size_t i = 0; i < times; ++i) {
        out += piece;
    }
    return out;
}

TEST(YamlGuard, AcceptsAManifest) {
    const std::string text = "name: app\ndistro: debian\nrelease: bookworm\n"
                             "packages: [libc6, \"ca-certificates\"]\n"
                             "config:\n  env: {LANG: C.UTF-8}\n  cmd:\n    - /app\n---\n";
    EXPECT_EQ(check_yaml("m.yaml", text), std::nullopt);
    EXPECT_EQ(check_yaml("m.yaml", ""), std::nullopt);
}

TEST(YamlGuard, TheFlowEntryCommaIsASyntaxErrorAtItsPosition) {
    const auto problem = check_yaml("m.yaml", k_hang);
    ASSERT_TRUE(problem);
    EXPECT_EQ(problem->str(), "m.yaml:1:1: YAML syntax error: did not find expected node content");
}

TEST(YamlGuard, ASyntaxErrorNamesWhereTheUnclosedPartStarted) {
    const auto problem = check_yaml("m.yaml", "name: app\npackages: [a, b\nrelease: x\n");
    ASSERT_TRUE(problem);
    EXPECT_EQ(problem->where.line, 3);
    EXPECT_THAT(problem->message, HasSubstr("while parsing a flow sequence at line 2, column 11"));
}

TEST(YamlGuard, AnEncodingErrorIsLocated) {
    const auto problem = check_yaml("m.yaml", "name: app\nrelease: b\xff\xfe\n");
    ASSERT_TRUE(problem);
    EXPECT_EQ(problem->where.line, 2);
    EXPECT_EQ(problem->where.column, 11);
    EXPECT_THAT(problem->hint, HasSubstr("UTF-8"));
}

TEST(YamlGuard, NestingIsBounded) {
    const auto deep = repeated("[", k_max_yaml_depth + 1) + repeated("]", k_max_yaml_depth + 1);
    const auto problem = check_yaml("m.yaml", deep);
    ASSERT_TRUE(problem);
    EXPECT_EQ(problem->where.column, k_max_yaml_depth + 1);
    EXPECT_THAT(problem->message, HasSubstr("nested more than 64 deep"));
    const auto fine = repeated("[", k_max_yaml_depth) + repeated("]", k_max_yaml_depth);
    EXPECT_EQ(check_yaml("m.yaml", fine), std::nullopt);
}

TEST(YamlGuard, TheNumberOfValuesIsBounded) {
    const auto many = "[" + repeated("a,", k_max_yaml_nodes) + "a]";
    const auto problem = check_yaml("m.yaml", many);
    ASSERT_TRUE(problem);
    EXPECT_EQ(problem->where.line, 1);
    EXPECT_THAT(problem->message, HasSubstr("more than 100000 YAML values"));
}

TEST(YamlGuard, SizeIsBoundedAndABigFileIsNotReadWhole) {
    const std::string big(k_max_manifest_bytes + 1, '#');
    const auto problem = check_yaml("m.yaml", big);
    ASSERT_TRUE(problem);
    EXPECT_EQ(problem->where.line, 0);
    EXPECT_THAT(problem->str(), StartsWith("m.yaml: the manifest is larger than"));
    // An endless file costs one megabyte.
    EXPECT_EQ(read_manifest_text("/dev/zero").size(), k_max_manifest_bytes + 1);
    EXPECT_THROW((void)read_manifest_text("/nonexistent/m.yaml"), Error);
}

TEST(YamlGuard, TheReaderReportsTheGuardsError) {
    std::vector<Diagnostic> diagnostics;
    (void)read_layer("m.yaml", k_hang, "RELEASE", diagnostics);
    ASSERT_EQ(diagnostics.size(), 1U);
    EXPECT_EQ(diagnostics[0].str(),
              "m.yaml:1:1: YAML syntax error: did not find expected node content");
}

TEST(YamlTrial, AFinishingParseIsLetThrough) {
    const auto started = Clock::now();
    EXPECT_EQ(trial_parse("m.yaml", "name: app\npackages: [a, b]\n"), std::nullopt);
    // Malformed YAML that yaml-cpp reports by itself is let through too: the reader says it.
    EXPECT_EQ(trial_parse("m.yaml", "a: [b\n"), std::nullopt);
    const auto took = std::chrono::duration<double, std::milli>(Clock::now() - started);
    std::printf("[ figure ] two trial parses: %.1f ms\n", took.count());
    EXPECT_LT(took, 2s);
}

TEST(YamlTrial, AHangEndsAtTheCpuLimit) {
    const auto started = Clock::now();
    const auto problem = trial_parse(
        "m.yaml", k_hang,
        TrialLimits{.wall = 20s, .cpu_seconds = 1, .memory_bytes = std::size_t{8} << 30});
    const auto took = Clock::now() - started;
    ASSERT_TRUE(problem);
    EXPECT_EQ(problem->str().substr(0, problem->str().find('\n')),
              "m.yaml: the YAML parser did not finish within 1 s of CPU time");
    EXPECT_LT(took, 10s);
}

TEST(YamlTrial, AHangEndsAtTheMemoryLimit) {
    const auto problem = trial_parse(
        "m.yaml", k_hang,
        TrialLimits{.wall = 20s, .cpu_seconds = 3, .memory_bytes = std::size_t{64} << 20});
    ASSERT_TRUE(problem);
    if (!k_trial_memory_bounded) {
        // Under AddressSanitizer the CPU bound ends it.
        EXPECT_THAT(problem->message, HasSubstr("did not finish within 3 s of CPU time"));
        return;
    }
    // Where malloc fails decides whether yaml-cpp throws or aborts; both end the child.
    EXPECT_THAT(problem->message, ::testing::AnyOf(HasSubstr("needed more than 64 MiB"),
                                                   HasSubstr("crashed"), HasSubstr("failed")));
}

TEST(YamlTrial, AHangEndsAtTheWallClockLimit) {
    const auto started = Clock::now();
    const auto problem = trial_parse(
        "m.yaml", k_hang,
        TrialLimits{.wall = 300ms, .cpu_seconds = 60, .memory_bytes = std::size_t{8} << 30});
    ASSERT_TRUE(problem);
    EXPECT_THAT(problem->message, HasSubstr("did not finish within 0.3 s"));
    EXPECT_LT(Clock::now() - started, 2s);
}

// In a child process: cancellation cannot be undone in a process.
TEST(YamlTrial, CancellationEndsTheWaitAtOnce) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            std::thread canceller([] {
                std::this_thread::sleep_for(300ms);
                core::request_cancel(); // as the CLI's SIGINT handler does
            });
            const auto started = Clock::now();
            int code = 1;
            try {
                (void)trial_parse("m.yaml", k_hang, TrialLimits{60s, 60, std::size_t{8} << 30});
            } catch (const Error& e) {
                const auto took = Clock::now() - started;
                std::fprintf(
                    stderr, "%s after %lld ms\n", e.what(),
                    static_cast<long long>(
                        std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
                code = std::string_view(e.what()) == "interrupted" && took < 1300ms ? 0 : 1;
            }
            canceller.join();
            std::_Exit(code);
        },
        ::testing::ExitedWithCode(0), HasSubstr("interrupted after"));
}

} // namespace
} // namespace distill::manifest::detail
