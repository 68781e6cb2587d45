// Alpine (apk) versions against apk-tools' own vectors (../shared/testdata/versions), their
// Debian-sortable form against dpkg's ordering and libsolv's, fuzzy matching, and dependency
// tokens as an APKINDEX writes them.

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <distill/core/error.hpp>
#include <distill/distro/alpine/version.hpp>
#include <distill/distro/debian/pool_loader.hpp>
#include <distill/distro/debian/version.hpp>
#include <distill/resolve/solv/pool.hpp>

#include "support.hpp"

namespace distill::distro::alpine {
namespace {

constexpr const char* k_vectors[] = {"versions/apk-tools-version.data",
                                     "versions/apk-tools-2.14-version.data"};

int sign(int value) {
    return (value > 0) - (value < 0);
}

int deb_sign(const std::string& a, const std::string& b) {
    return sign(debian::compare_versions(a, b));
}

/// One line of apk-tools' version.data: "ver1 op ver2" (op possibly negated with '!'), or a
/// version alone that must be valid ("!version": invalid).
struct Vector {
    std::string line;
    bool invert = false;
    std::string a;
    std::string op; ///< empty for a validity line
    std::string b;
};

std::string trim(const std::string& text) {
    const auto first = text.find_first_not_of(" \t\r");
    if (first == std::string::npos) {
        return {};
    }
    return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

std::vector<Vector> read_vectors(const std::string& relative) {
    std::ifstream in(test::testdata_dir() / relative);
    std::vector<Vector> vectors;
    for (std::string raw; std::getline(in, raw);) {
        const std::string line = trim(raw.substr(0, raw.find('#')));
        if (line.empty()) {
            continue;
        }
        Vector vector;
        vector.line = line;
        std::istringstream fields(line);
        std::string first;
        std::string op;
        std::string second;
        fields >> first >> op >> second;
        if (!second.empty()) {
            vector.a = first;
            vector.b = second;
            vector.invert = op.front() == '!';
            vector.op = vector.invert ? op.substr(1) : op;
        } else {
            vector.invert = line.front() == '!';
            vector.a = vector.invert ? line.substr(1) : line;
        }
        vectors.push_back(vector);
    }
    return vectors;
}

/// Every distinct version named in both vector files.
std::vector<std::string> vector_versions() {
    std::set<std::string> versions;
    for (const char* file : k_vectors) {
        for (const auto& vector : read_vectors(file)) {
            versions.insert(vector.a);
            if (!vector.op.empty()) {
                versions.insert(vector.b);
            }
        }
    }
    return {versions.begin(), versions.end()};
}

std::vector<std::string> valid_only(const std::vector<std::string>& versions) {
    std::vector<std::string> valid;
    std::copy_if(versions.begin(), versions.end(), std::back_inserter(valid),
                 [](const std::string& v) { return is_valid_version(v); });
    return valid;
}

/// A real index: Alpine 3.19's main/x86_64 (the signature and the index, as a tar).
constexpr const char* k_index = "alpine/v3.19/main/x86_64/APKINDEX.tar.gz";

std::string index_tar() {
    std::ifstream in(test::testdata_dir() / k_index, std::ios::binary);
    return test::decompress(
        std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
}

class AlpineVersionVectors : public ::testing::TestWithParam<const char*> {};

TEST_P(AlpineVersionVectors, EveryLineHolds) {
    DISTILL_REQUIRE_TESTDATA(GetParam());
    const auto vectors = read_vectors(GetParam());
    ASSERT_GT(vectors.size(), 700U);
    int comparisons = 0;
    int validity = 0;
    for (const auto& vector : vectors) {
        if (vector.op.empty()) {
            EXPECT_EQ(is_valid_version(vector.a), !vector.invert) << vector.line;
            ++validity;
            continue;
        }
        const auto op = parse_operator(vector.op);
        ASSERT_TRUE(op.has_value()) << vector.line;
        EXPECT_EQ(version_matches(vector.a, *op, vector.b), !vector.invert) << vector.line;
        // The plain comparisons also hold the other way round and as a sign.
        const int got = sign(compare_versions(vector.a, vector.b));
        EXPECT_EQ(sign(compare_versions(vector.b, vector.a)), -got) << vector.line;
        if (!vector.invert && (*op == Op::less || *op == Op::equal || *op == Op::greater)) {
            EXPECT_EQ(got, *op == Op::less ? -1 : (*op == Op::greater ? 1 : 0)) << vector.line;
        }
        ++comparisons;
    }
    RecordProperty("comparisons", comparisons);
    RecordProperty("validity", validity);
    EXPECT_GT(comparisons, 700);
}

/// "master" or "v2_14", after the file's name.
std::string vector_name(const ::testing::TestParamInfo<const char*>& file) {
    return std::string(file.param).find("2.14") != std::string::npos ? "v2_14" : "master";
}

INSTANTIATE_TEST_SUITE_P(ApkTools, AlpineVersionVectors, ::testing::ValuesIn(k_vectors),
                         vector_name);

TEST(AlpineVersion, GrammarCases) {
    for (const char* valid :
         {"1", "0", "1.2.3", "1.2.3a", "1.0_alpha", "1.0_alpha1_pre2", "1.0_p1-r0", "1.0~abc123",
          "1.0_git20240101~0af-r7", "01.002", "2.38-r1"}) {
        EXPECT_TRUE(is_valid_version(valid)) << valid;
    }
    for (const char* invalid :
         {"",    "a",  "1.",  "1..2",  "1.2ab",   "1.a2", "1_",   "1_post1", "1-r",   "1-r1-r2",
          "1-2", "1~", "1~g", "1~ABC", "1-r1~ab", "1.0 ", " 1.0", "1:1.0",   "1.0+1", "1.0A"}) {
        EXPECT_FALSE(is_valid_version(invalid)) << "'" << invalid << "'";
    }
    const std::string longest(k_max_version_length, '1');
    EXPECT_TRUE(is_valid_version(longest));
    EXPECT_FALSE(is_valid_version(longest + "1"));
    EXPECT_THROW((void)sortable_version(longest + "1"), Error);
    EXPECT_THROW((void)sortable_version("1.0bc"), Error);
    EXPECT_THROW((void)fuzzy_bounds("1.0_"), Error);
    // Huge numbers compare by value.
    EXPECT_LT(compare_versions("1.99999999999999999999999", "1.100000000000000000000000"), 0);
}

/// The sortable form's contract on `versions`: for each pair checked, dpkg orders the mapped
/// strings as apk orders the versions, and equal versions map to one string.
void expect_sortable_agrees(const std::vector<std::string>& a_side,
                            const std::vector<std::string>& b_side, std::size_t& checked) {
    for (const auto& a : a_side) {
        const auto sa = sortable_version(a);
        for (const auto& b : b_side) {
            const auto sb = sortable_version(b);
            const int want = sign(compare_versions(a, b));
            ASSERT_EQ(deb_sign(sa, sb), want) << a << " vs " << b << ": " << sa << " vs " << sb;
            if (want == 0) {
                ASSERT_EQ(sa, sb) << a << " = " << b;
            }
            ++checked;
        }
    }
}

TEST(AlpineVersion, SortableFormOrdersEveryPairAsApk) {
    for (const char* file : k_vectors) {
        DISTILL_REQUIRE_TESTDATA(file);
    }
    const auto versions = valid_only(vector_versions());
    ASSERT_GT(versions.size(), 500U);
    std::size_t checked = 0;
    expect_sortable_agrees(versions, versions, checked);
    RecordProperty("versions", static_cast<int>(versions.size()));
    RecordProperty("pairs", static_cast<int>(checked));
    EXPECT_EQ(checked, versions.size() * versions.size());
    for (const auto& version : versions) {
        const auto sortable = sortable_version(version);
        EXPECT_EQ(sortable.find_first_of(":-"), std::string::npos) << sortable;
        EXPECT_EQ(sortable_version(version), sortable);
        EXPECT_TRUE(debian::Version::parse(sortable).has_value()) << version << " " << sortable;
    }
}

TEST(AlpineVersion, SortableFormReadsBackAsAnEqualVersion) {
    for (const char* file : k_vectors) {
        DISTILL_REQUIRE_TESTDATA(file);
    }
    const auto versions = valid_only(vector_versions());
    ASSERT_GT(versions.size(), 500U);
    for (const auto& version : versions) {
        const auto back = from_sortable_version(sortable_version(version));
        EXPECT_EQ(compare_versions(back, version), 0) << version << " read back as " << back;
        EXPECT_EQ(sortable_version(back), sortable_version(version)) << version;
    }
    EXPECT_EQ(from_sortable_version(sortable_version("1.2.4_git20230717-r4")),
              "1.2.4_git20230717-r4");
    EXPECT_EQ(from_sortable_version(sortable_version("1.01a_rc2_p3~a1b2-r10")),
              "1.01a_rc2_p3~a1b2-r10");
    for (const char* junk : {"", "+1", "1Q", "1z", "1zkA", "1~E", "1R", "1Sqq"}) {
        EXPECT_THROW((void)from_sortable_version(junk), Error) << junk;
    }
}

TEST(AlpineVersion, SortableFormOfTheVectorLines) {
    for (const char* file : k_vectors) {
        DISTILL_REQUIRE_TESTDATA(file);
        for (const auto& vector : read_vectors(file)) {
            if (vector.op.empty() || !is_valid_version(vector.a) || !is_valid_version(vector.b)) {
                continue;
            }
            const auto op = parse_operator(vector.op);
            ASSERT_TRUE(op.has_value()) << vector.line;
            if (*op == Op::less || *op == Op::equal || *op == Op::greater) {
                const int want = *op == Op::less ? -1 : (*op == Op::greater ? 1 : 0);
                EXPECT_EQ(deb_sign(sortable_version(vector.a), sortable_version(vector.b)),
                          vector.invert ? -want : want)
                    << vector.line;
            }
        }
    }
}

TEST(AlpineVersion, SortableFormOfTheAlpineIndexVersions) {
    // Every V: of a real APKINDEX is valid, and sorting them with apk's order sorts their
    // sortable forms for dpkg (adjacent pairs, then every pair against the vectors' versions).
    DISTILL_REQUIRE_TESTDATA(k_index);
    const std::string tar = index_tar();
    std::set<std::string> unique;
    for (std::size_t at = tar.find("\nV:"); at != std::string::npos; at = tar.find("\nV:", at)) {
        at += 3;
        unique.insert(tar.substr(at, tar.find('\n', at) - at));
    }
    ASSERT_GT(unique.size(), 1000U);
    // apk-tools 2.14 built this index and accepts a digit after a letter ("0.99f7-r2");
    // apk-tools 3 does not, so a few versions are left out here (see version.hpp).
    std::vector<std::string> versions;
    std::string refused;
    for (const auto& version : unique) {
        if (is_valid_version(version)) {
            versions.push_back(version);
        } else {
            refused += " " + version;
        }
    }
    EXPECT_LT(unique.size() - versions.size(), unique.size() / 200) << "refused:" << refused;
    RecordProperty("refused", refused);
    std::sort(versions.begin(), versions.end(),
              [](const auto& a, const auto& b) { return compare_versions(a, b) < 0; });
    for (std::size_t i = 1; i < versions.size(); ++i) {
        EXPECT_EQ(deb_sign(sortable_version(versions[i - 1]), sortable_version(versions[i])),
                  sign(compare_versions(versions[i - 1], versions[i])))
            << versions[i - 1] << " vs " << versions[i];
    }
    std::size_t checked = 0;
    expect_sortable_agrees(versions, valid_only(vector_versions()), checked);
}

TEST(AlpineVersion, SortableFormOrdersAsLibsolv) {
    // The same property with libsolv's own DISTTYPE_DEB comparison, on a pool holding one
    // package per version whose EVR is the sortable form.
    for (const char* file : k_vectors) {
        DISTILL_REQUIRE_TESTDATA(file);
    }
    const auto versions = valid_only(vector_versions());
    test::ScratchDir scratch;
    std::string tags = "=Ver: 2.0\n";
    for (std::size_t i = 0; i < versions.size(); ++i) {
        tags += fmt::format("=Pkg: v{} {} - all\n", i, sortable_version(versions[i]));
    }
    core::write_file_atomic(scratch.path() / "versions.testtags", tags);
    const debian::PoolLoader loader;
    resolve::solv::Pool pool(loader, "amd64");
    pool.load_testtags(pool.add_repo("versions"), scratch.path() / "versions.testtags");
    const auto prepared = std::move(pool).prepare();
    std::vector<resolve::solv::Id> ids;
    for (std::size_t i = 0; i < versions.size(); ++i) {
        const auto named = prepared.named(fmt::format("v{}", i));
        ASSERT_EQ(named.size(), 1U) << versions[i];
        ASSERT_EQ(prepared.info(named.front()).evr, sortable_version(versions[i]));
        ids.push_back(named.front());
    }
    std::size_t checked = 0;
    for (std::size_t i = 0; i < versions.size(); ++i) {
        for (std::size_t j = 0; j < versions.size(); ++j) {
            ASSERT_EQ(sign(prepared.compare_versions(ids[i], ids[j])),
                      sign(compare_versions(versions[i], versions[j])))
                << versions[i] << " vs " << versions[j];
            ++checked;
        }
    }
    RecordProperty("pairs", static_cast<int>(checked));
}

TEST(AlpineVersion, FuzzyBoundsBracketExactlyTheMatches) {
    for (const char* file : k_vectors) {
        DISTILL_REQUIRE_TESTDATA(file);
    }
    const auto versions = valid_only(vector_versions());
    std::vector<std::string> sortable;
    std::transform(versions.begin(), versions.end(), std::back_inserter(sortable),
                   [](const std::string& v) { return sortable_version(v); });
    std::size_t matches = 0;
    for (const auto& pattern : versions) {
        const auto [low, high] = fuzzy_bounds(pattern);
        ASSERT_LT(deb_sign(low, high), 0) << pattern;
        for (std::size_t i = 0; i < versions.size(); ++i) {
            const bool above_low = deb_sign(low, sortable[i]) <= 0;
            const bool below_high = deb_sign(sortable[i], high) < 0;
            const bool match = fuzzy_match(versions[i], pattern);
            ASSERT_EQ(match, above_low && below_high)
                << versions[i] << " ~ " << pattern << ": " << sortable[i] << " in [" << low << ", "
                << high << ")";
            ASSERT_EQ(version_matches(versions[i], Op::fuzzy, pattern), match);
            ASSERT_EQ(version_matches(versions[i], Op::fuzzy_less_equal, pattern), below_high)
                << versions[i] << " <~ " << pattern;
            ASSERT_EQ(version_matches(versions[i], Op::fuzzy_greater_equal, pattern), above_low)
                << versions[i] << " >~ " << pattern;
            matches += match ? 1 : 0;
        }
    }
    RecordProperty("matches", static_cast<int>(matches));
    // Not vacuous: a good share of the pairs match and most do not.
    EXPECT_GT(matches, versions.size());
    EXPECT_LT(matches, versions.size() * versions.size() / 2);
}

TEST(AlpineVersion, FuzzyMatchIsATokenPrefix) {
    EXPECT_TRUE(fuzzy_match("3.6.9", "3.6"));
    EXPECT_TRUE(fuzzy_match("3.6_pre1", "3.6"));
    EXPECT_TRUE(fuzzy_match("3.6", "3.6"));
    EXPECT_TRUE(fuzzy_match("3.11.7-r1", "3.11"));
    EXPECT_FALSE(fuzzy_match("3.60", "3.6"));
    EXPECT_FALSE(fuzzy_match("3.6", "3.6.0"));
    EXPECT_FALSE(fuzzy_match("3.06", "3.6"));
    EXPECT_FALSE(fuzzy_match("1.0~abcd", "1.0~abc"));
    EXPECT_TRUE(fuzzy_match("1.0~abc-r2", "1.0~abc"));
}

struct TokenCase {
    const char* token;
    bool conflict;
    const char* name;
    Op op;
    const char* version;
    const char* tag;
};

TEST(AlpineDependency, TokensOfARealIndexAndWorld) {
    // The first group is copied from Alpine 3.19's main/x86_64 APKINDEX (D:, p: and i:
    // fields); the second has the operators and tags an index does not use but apk accepts
    // (/etc/apk/world, `apk add`).
    const TokenCase cases[] = {
        {"so:libc.musl-x86_64.so.1", false, "so:libc.musl-x86_64.so.1", Op::any, "", ""},
        {"so:libnftnl.so.11=11.6.0", false, "so:libnftnl.so.11", Op::equal, "11.6.0", ""},
        {"cmd:s6-false=2.3.0.3-r0", false, "cmd:s6-false", Op::equal, "2.3.0.3-r0", ""},
        {"pc:bluez=5.70", false, "pc:bluez", Op::equal, "5.70", ""},
        {"!openssh-client", true, "openssh-client", Op::any, "", ""},
        {"lua5.1-bit32<26", false, "lua5.1-bit32", Op::less, "26", ""},
        {"abuild>2.20.0", false, "abuild", Op::greater, "2.20.0", ""},
        {"apk-tools>=2.0.7-r1", false, "apk-tools", Op::greater_equal, "2.0.7-r1", ""},
        {"python3~3.11", false, "python3", Op::fuzzy, "3.11", ""},
        {"libstdc++", false, "libstdc++", Op::any, "", ""},
        {"busybox<=1.36.1-r15", false, "busybox", Op::less_equal, "1.36.1-r15", ""},
        {"musl=~1.2", false, "musl", Op::fuzzy, "1.2", ""},
        {"musl<~1.3", false, "musl", Op::fuzzy_less_equal, "1.3", ""},
        {"musl>~1.2", false, "musl", Op::fuzzy_greater_equal, "1.2", ""},
        {"!busybox<1.36", true, "busybox", Op::less, "1.36", ""},
        {"curl@edge", false, "curl", Op::any, "", "edge"},
        {"curl@edge>=8.5.0-r0", false, "curl", Op::greater_equal, "8.5.0-r0", "edge"},
        // apk pins a package by its identity hash with "><".
        {"musl><Q1sSNCl4MTQ0d1V/0NTXAhIjY7Nqo=", false, "musl", Op::checksum,
         "Q1sSNCl4MTQ0d1V/0NTXAhIjY7Nqo=", ""},
    };
    for (const auto& c : cases) {
        const auto parsed = parse_dependency(c.token);
        ASSERT_TRUE(parsed.has_value()) << c.token;
        EXPECT_EQ(parsed->conflict, c.conflict) << c.token;
        EXPECT_EQ(parsed->name, c.name) << c.token;
        EXPECT_EQ(parsed->op, c.op) << c.token;
        EXPECT_EQ(parsed->version, c.version) << c.token;
        EXPECT_EQ(parsed->tag, c.tag) << c.token;
        // Written back as apk writes it, it parses to the same.
        const auto again = parse_dependency(format_dependency(*parsed));
        ASSERT_TRUE(again.has_value()) << format_dependency(*parsed);
        EXPECT_EQ(format_dependency(*again), format_dependency(*parsed));
    }
    EXPECT_EQ(format_dependency(*parse_dependency("musl=~1.2")), "musl~1.2");
}

TEST(AlpineDependency, MalformedTokensAreRefused) {
    for (const char* bad :
         {"", "!", "=1.0", "!>=1.0", "foo=", "foo>=", "foo=1.0bc", "foo>=x", "foo<=>1.0", "foo@",
          "@edge", "foo bar", "foo\t", "!!foo", "foo=1.0_foo", "foo><"}) {
        EXPECT_FALSE(parse_dependency(bad).has_value()) << "'" << bad << "'";
    }
}

TEST(AlpineDependency, EveryTokenOfARealIndexParses) {
    DISTILL_REQUIRE_TESTDATA(k_index);
    const std::string tar = index_tar();
    std::size_t tokens = 0;
    std::string refused;
    std::set<Op> ops;
    for (const char* field : {"\nD:", "\np:", "\ni:"}) {
        for (std::size_t at = tar.find(field); at != std::string::npos; at = tar.find(field, at)) {
            at += 3;
            std::istringstream words(tar.substr(at, tar.find('\n', at) - at));
            for (std::string word; words >> word;) {
                const auto parsed = parse_dependency(word);
                if (!parsed) {
                    // Only for a version apk-tools 3 refuses too ("pc:jemalloc=5.3.0_").
                    const auto op = word.find_first_of("<>=~");
                    ASSERT_NE(op, std::string::npos) << word;
                    const auto version = word.substr(word.find_first_not_of("<>=~", op));
                    EXPECT_FALSE(is_valid_version(version)) << word;
                    refused += " " + word;
                    continue;
                }
                EXPECT_TRUE(parsed->tag.empty()) << word;
                EXPECT_EQ(format_dependency(*parsed), word);
                ops.insert(parsed->op);
                ++tokens;
            }
        }
    }
    RecordProperty("tokens", static_cast<int>(tokens));
    RecordProperty("refused", refused);
    EXPECT_GT(tokens, 10000U);
    EXPECT_LT(std::count(refused.begin(), refused.end(), ' '), 10) << "refused:" << refused;
    EXPECT_EQ(ops, (std::set<Op>{Op::any, Op::equal, Op::less, Op::greater, Op::greater_equal,
                                 Op::fuzzy}));
}

TEST(AlpineDependency, OperatorsReadAsApkReadsThem) {
    EXPECT_EQ(parse_operator("=<"), Op::less_equal);
    EXPECT_EQ(parse_operator("=>"), Op::greater_equal);
    EXPECT_EQ(parse_operator("~="), Op::fuzzy);
    EXPECT_EQ(parse_operator("<>"), Op::checksum);
    EXPECT_EQ(parse_operator("=="), Op::equal);
    EXPECT_FALSE(parse_operator("").has_value());
    EXPECT_FALSE(parse_operator("<=>").has_value());
    EXPECT_FALSE(parse_operator("=!").has_value());
    EXPECT_TRUE(version_matches("1.0", Op::any, ""));
    EXPECT_FALSE(version_matches("1.0", Op::checksum, "1.0"));
    EXPECT_TRUE(version_matches("1.0-r1", Op::greater_equal, "1.0"));
    EXPECT_FALSE(version_matches("1.0_rc1", Op::greater_equal, "1.0"));
}

} // namespace
} // namespace distill::distro::alpine
