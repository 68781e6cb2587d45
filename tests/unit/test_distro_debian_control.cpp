// deb822 control files: paragraphs, fields, continuation lines and errors that name the line.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <distill/distro/debian/control.hpp>

namespace distill::distro::debian {
namespace {

using ::testing::HasSubstr;

TEST(DebControl, ParagraphsFieldsAndContinuationLines) {
    const auto paragraphs = parse_paragraphs("Package: a\nDescription: short\n long line\n .\n"
                                             "\n# comment\nPackage: b\nversion: 1.0\n",
                                             "test");
    ASSERT_EQ(paragraphs.size(), 2U);
    EXPECT_EQ(paragraphs[0].get("package").value_or(""), "a");
    EXPECT_EQ(paragraphs[0].get("Description").value_or(""), "short\nlong line\n.");
    EXPECT_EQ(paragraphs[1].get("Version").value_or(""), "1.0"); // case-insensitive names
    EXPECT_EQ(paragraphs[1].line(), 7);
    EXPECT_FALSE(paragraphs[1].get("Depends").has_value());
}

TEST(DebControl, MalformedLinesNameTheLine) {
    try {
        (void)parse_paragraphs("Package: a\nno colon here\n", "Packages");
        FAIL() << "no error";
    } catch (const ControlError& e) {
        EXPECT_THAT(e.what(), HasSubstr("Packages:2:"));
    }
    EXPECT_THROW((void)parse_paragraphs(" continuation first\n", "x"), ControlError);
}

} // namespace
} // namespace distill::distro::debian
