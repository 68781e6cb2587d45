#include <gtest/gtest.h>

#include <distill/core/error.hpp>

namespace distill {
namespace {

TEST(CoreError, DescribeJoinsTheNestedChainOuterFirst) {
    try {
        with_context("building java17", [] {
            with_context("fetching libc6",
                         [] { throw Error("sha256 mismatch", ExitCode::verification); });
        });
        FAIL() << "no exception";
    } catch (const std::exception& e) {
        EXPECT_EQ(describe(e), "building java17: fetching libc6: sha256 mismatch");
        EXPECT_EQ(exit_code_of(e), ExitCode::verification);
    }
}

TEST(CoreError, ContextReturnsTheBodysValue) {
    EXPECT_EQ(with_context("adding", [] { return 2 + 2; }), 4);
}

TEST(CoreError, PlainExceptionsKeepTheGenericExitCode) {
    try {
        with_context("reading", [] { throw std::runtime_error("boom"); });
        FAIL() << "no exception";
    } catch (const std::exception& e) {
        EXPECT_EQ(describe(e), "reading: boom");
        EXPECT_EQ(exit_code_of(e), ExitCode::failure);
    }
}

class LocatedError : public Error {
public:
    LocatedError()
        : Error("app.yaml:3:10: no such release", ExitCode::manifest) {}
    [[nodiscard]] bool located() const noexcept override { return true; }
};

TEST(CoreError, ALocatedErrorPassesThroughContextUnwrapped) {
    try {
        with_context("fetching package indexes",
                     [] { with_context("reading suite bookwrom", [] { throw LocatedError(); }); });
        FAIL() << "no exception";
    } catch (const std::exception& e) {
        EXPECT_EQ(describe(e), "app.yaml:3:10: no such release");
        EXPECT_EQ(exit_code_of(e), ExitCode::manifest);
    }
}

} // namespace
} // namespace distill
