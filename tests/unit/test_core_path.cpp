// The one check every path component taken from outside data passes.

#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <distill/core/cache.hpp>
#include <distill/core/path.hpp>
#include <distill/core/text.hpp>

namespace distill::core {
namespace {

using ::testing::HasSubstr;

TEST(SafeComponent, KeepsOrdinaryNames) {
    EXPECT_EQ(safe_component("libc6_2.36-9+deb12u4_amd64", "key"), "libc6_2.36-9+deb12u4_amd64");
    EXPECT_EQ(safe_component("libnspr4_2:4.35-1_amd64", "key"), "libnspr4_2:4.35-1_amd64");
    EXPECT_EQ(safe_component("..a", "key"), "..a");
    EXPECT_EQ(safe_component(std::string(255, 'x'), "key"), std::string(255, 'x'));
}

TEST(SafeComponent, RefusesWhatCouldLeaveItsDirectory) {
    for (const std::string bad : {"", ".", "..", "a/b", "../../x", "/etc", "x/"}) {
        EXPECT_TRUE(component_problem(bad).has_value()) << bad;
        EXPECT_THROW((void)safe_component(bad, "package name"), UnsafePathError) << bad;
    }
}

TEST(SafeComponent, RefusesControlCharactersAndLongNames) {
    for (const auto& bad : {std::string("a\nb"), std::string("a\0b", 3), std::string("\x1b[2J"),
                            std::string("a\x7f"), std::string(256, 'x')}) {
        EXPECT_TRUE(component_problem(bad).has_value()) << printable(bad);
    }
}

TEST(SafeComponent, NamesWhatAndWhyWithoutRawControlCharacters) {
    try {
        (void)safe_component("x\n../../y", "package name from http://127.0.0.1/Packages");
        FAIL() << "no error";
    } catch (const UnsafePathError& error) {
        const std::string message = error.what();
        EXPECT_THAT(message, HasSubstr("package name from http://127.0.0.1/Packages"));
        EXPECT_THAT(message, HasSubstr("`x\\n../../y`"));
        EXPECT_EQ(message.find('\n'), std::string::npos);
        EXPECT_EQ(error.exit_code(), ExitCode::unsafe_content);
    }
}

TEST(SafeComponent, GuardsEveryCachePathMadeFromOutsideData) {
    const Cache cache(std::filesystem::temp_directory_path() / "distill-test-core-path-cache");
    EXPECT_EQ(cache.derived_path("packages", "libc6_2.36-9_amd64").filename(),
              "libc6_2.36-9_amd64");
    EXPECT_THROW((void)cache.derived_path("packages", "../../../x_1_amd64"), UnsafePathError);
    EXPECT_THROW((void)cache.derived_path("packages", "x_1/../../../../y_amd64"), UnsafePathError);
    EXPECT_THROW((void)cache.derived_path("../x", "key"), UnsafePathError);
    EXPECT_THROW((void)cache.blob_path("../../etc/passwd"), UnsafePathError);
    EXPECT_THROW((void)cache.blob_path(""), UnsafePathError);
    std::filesystem::remove_all(cache.root());
}

TEST(Printable, EscapesControlCharactersOnly) {
    EXPECT_EQ(printable("a b\tc\nd\x01\x7f\xc3\xa9"), "a b\\tc\\nd\\x01\\x7f\xc3\xa9");
}

} // namespace
} // namespace distill::core
