// Debian version syntax and ordering against dpkg's and apt's own vectors
// (../shared/testdata/versions).

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <distill/distro/debian/version.hpp>

#include "support.hpp"

namespace distill::distro::debian {
namespace {

std::vector<std::string> data_lines(const std::string& relative) {
    std::ifstream in(test::testdata_dir() / relative);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.front() != '#') {
            lines.push_back(line);
        }
    }
    return lines;
}

std::vector<std::string> split_on(const std::string& line, char separator) {
    std::vector<std::string> fields;
    std::stringstream stream(line);
    for (std::string field; std::getline(stream, field, separator);) {
        fields.push_back(field);
    }
    if (!line.empty() && line.back() == separator) {
        fields.emplace_back();
    }
    return fields;
}

int expected_sign(const std::string& op) {
    if (op == "<<") {
        return -1;
    }
    if (op == ">>") {
        return 1;
    }
    EXPECT_EQ(op, "=") << "unknown operator";
    return 0;
}

int sign(int value) {
    return (value > 0) - (value < 0);
}

int sign(const Version& a, const Version& b) {
    const auto order = a <=> b;
    return order < 0 ? -1 : (order > 0 ? 1 : 0);
}

TEST(DebVersion, EveryComparisonVectorHoldsBothWays) {
    DISTILL_REQUIRE_TESTDATA("versions/deb-compare.txt");
    const auto lines = data_lines("versions/deb-compare.txt");
    ASSERT_GT(lines.size(), 100U);
    for (const auto& line : lines) {
        const auto fields = split_on(line, ' ');
        ASSERT_EQ(fields.size(), 3U) << line;
        const int want = expected_sign(fields[1]);
        // Both the lenient string comparison and the parsed versions agree with dpkg.
        EXPECT_EQ(sign(compare_versions(fields[0], fields[2])), want) << line;
        EXPECT_EQ(sign(compare_versions(fields[2], fields[0])), -want) << line;
        const auto a = Version::parse(fields[0]);
        const auto b = Version::parse(fields[2]);
        ASSERT_TRUE(a && b) << line;
        EXPECT_EQ(sign(*a, *b), want) << line;
        EXPECT_EQ(sign(*b, *a), -want) << line;
    }
}

TEST(DebVersion, AptsVectorsHold) {
    DISTILL_REQUIRE_TESTDATA("versions/apt-versions.lst");
    const auto lines = data_lines("versions/apt-versions.lst");
    ASSERT_GT(lines.size(), 50U);
    for (const auto& line : lines) {
        std::istringstream fields(line);
        std::string a;
        std::string b;
        int want = 2;
        fields >> a >> b >> want;
        ASSERT_TRUE(want >= -1 && want <= 1) << line;
        EXPECT_EQ(sign(compare_versions(a, b)), want) << line;
        EXPECT_EQ(sign(compare_versions(b, a)), -want) << line;
    }
}

TEST(DebVersion, ValidityMatchesDpkg) {
    DISTILL_REQUIRE_TESTDATA("versions/deb-validity.txt");
    const auto lines = data_lines("versions/deb-validity.txt");
    ASSERT_GT(lines.size(), 80U);
    int invalid = 0;
    for (const auto& line : lines) {
        const auto fields = split_on(line, '\t');
        ASSERT_GE(fields.size(), 2U) << line;
        std::string why;
        const auto parsed = Version::parse(fields[1], &why);
        if (fields[0] == "valid") {
            EXPECT_TRUE(parsed.has_value()) << "'" << fields[1] << "': " << why;
        } else {
            ASSERT_EQ(fields[0], "invalid") << line;
            EXPECT_FALSE(parsed.has_value()) << "'" << fields[1] << "' parsed";
            EXPECT_FALSE(why.empty()) << "'" << fields[1] << "' has no reason";
            ++invalid;
        }
    }
    EXPECT_GT(invalid, 60);
}

TEST(DebVersion, PartsAreSplitAsDpkgDoes) {
    DISTILL_REQUIRE_TESTDATA("versions/deb-parse.tsv");
    auto lines = data_lines("versions/deb-parse.tsv");
    ASSERT_FALSE(lines.empty());
    lines.erase(lines.begin()); // the header row
    ASSERT_GE(lines.size(), 14U);
    for (const auto& line : lines) {
        const auto fields = split_on(line, '\t');
        ASSERT_EQ(fields.size(), 4U) << line;
        const auto version = Version::parse(fields[0]);
        ASSERT_TRUE(version) << line;
        EXPECT_EQ(version->epoch(), std::stoul(fields[1])) << line;
        EXPECT_EQ(version->upstream(), fields[2]) << line;
        EXPECT_EQ(version->revision(), fields[3]) << line;
    }
}

TEST(DebVersion, StrLeavesOutAZeroEpochAndKeepsTheRest) {
    EXPECT_EQ(Version::parse("0:1.2-3")->str(), "1.2-3");
    EXPECT_EQ(Version::parse("2:4.35-1")->str(), "2:4.35-1");
    EXPECT_EQ(Version::parse("17.0.21.1+2-1~deb12u1")->str(), "17.0.21.1+2-1~deb12u1");
    // A colon in the upstream version keeps even a zero epoch, or it would read as the epoch.
    EXPECT_EQ(Version::parse("0:0:0-0")->str(), "0:0:0-0");
    std::string why;
    EXPECT_FALSE(Version::parse("foo", &why));
    EXPECT_EQ(why, "version number does not start with a digit");
}

} // namespace
} // namespace distill::distro::debian
