// apk-tools' own solver tests (testdata alpine/apk-tools-solver-tests) run through distill's
// resolver with the Alpine pool loader: every test that starts from an empty system and runs
// `apk add` must install the package set apk expects (names and versions), or fail where apk
// fails. The tests that cannot match are listed below, each with its reason, and the list is
// checked to be still true.
#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <distill/core/fs.hpp>
#include <distill/core/reporter.hpp>
#include <distill/distro/alpine/version.hpp>
#include <distill/resolve/resolve.hpp>

#include "support.hpp"

namespace distill::distro::alpine {
namespace {

const char* const k_dir = "alpine/apk-tools-solver-tests";

/// Why an applicable test cannot give apk's answer through the resolver.
enum class Gap {
    not_expressible, ///< the request type has no way to say what the test asks
    differs,         ///< expressible, but distill's resolver decides otherwise
};

struct KnownGap {
    const char* test;
    Gap gap;
    const char* reason;
};

// Each applicable test that does not pass, with why. Checked below: a not_expressible test
// must still be refused by request_for(), a differs test must still give another answer.
const KnownGap k_known_gaps[] = {
    {"basic8.test", Gap::not_expressible,
     "-t makes a virtual package of the arguments; a request has no virtual packages"},
    {"basic10.test", Gap::not_expressible,
     "--force-broken-world installs what it can and skips the rest; the resolver solves all"},
    {"basic11.test", Gap::not_expressible,
     "--force-broken-world installs what it can and skips the rest; the resolver solves all"},
    {"error3.test", Gap::not_expressible, "!b: a request cannot forbid a package"},
    {"pinning14.test", Gap::not_expressible,
     "-t makes a virtual package of the arguments; a request has no virtual packages"},
    // install_if is given to libsolv as supplements; where apk's rule is narrower, libsolv's
    // weak dependencies install more.
    {"installif1.test", Gap::differs,
     "apk leaves libiif (i:lib foo) out; libsolv installs it as its conditions hold"},
    {"installif2.test", Gap::differs,
     "apk leaves libiif (i:lib foo) out; libsolv installs it as its conditions hold"},
    {"installif3.test", Gap::differs,
     "apk leaves libiif (i:lib foo) out; libsolv installs it as its conditions hold"},
    {"provides14.test", Gap::differs,
     "hplip-sane requested: its one unranked provider comes in by install_if; apk still "
     "refuses the name, distill takes it as provided"},
    // apk refuses to choose among providers of a name when none has a provider_priority;
    // libsolv picks one.
    {"provides10.test", Gap::differs, "apk will not pick among unranked providers; libsolv does"},
    {"provides11.test", Gap::differs, "apk will not pick among unranked providers; libsolv does"},
    {"provides16.test", Gap::differs, "apk will not pick among unranked providers; libsolv does"},
    {"provides12.test", Gap::differs,
     "apk takes a package providing its own name as conflicting with itself; libsolv does not"},
    // apk lets one package at a time provide a name with a version; libsolv lets several.
    {"provides5.test", Gap::differs, "versioned provides of one name do not conflict in libsolv"},
    {"provides7.test", Gap::differs, "versioned provides of one name do not conflict in libsolv"},
};

/// One apk-tools solver test, as its .test file says.
struct SolverTest {
    std::string name;
    std::vector<std::string> args;
    std::vector<std::pair<std::string, std::string>> repos; ///< (tag or "", file)
    std::vector<std::string> world;
    bool installed = false; ///< starts from an installed system
    std::vector<std::string> expect;
};

SolverTest read_test(const std::filesystem::path& path) {
    SolverTest test;
    test.name = path.filename().string();
    std::istringstream in(core::read_file(path));
    bool expecting = false;
    for (std::string line; std::getline(in, line);) {
        if (expecting) {
            test.expect.push_back(line);
            continue;
        }
        std::vector<std::string> words;
        std::istringstream split(line);
        for (std::string word; split >> word;) {
            words.push_back(word);
        }
        if (words.empty()) {
            continue;
        }
        const std::vector<std::string> rest(words.begin() + 1, words.end());
        if (words[0] == "@ARGS") {
            test.args = rest;
        } else if (words[0] == "@REPO" && rest.size() == 2 && rest[0].starts_with('@')) {
            test.repos.emplace_back(rest[0].substr(1), rest[1]);
        } else if ((words[0] == "@REPO" || words[0] == "@CACHE") && rest.size() == 1) {
            // The cache is a repository apk reads offline.
            test.repos.emplace_back("", rest[0]);
        } else if (words[0] == "@WORLD") {
            test.world = rest;
        } else if (words[0] == "@INSTALLED") {
            test.installed = true;
        } else if (words[0] == "@EXPECT") {
            expecting = true;
        } else {
            ADD_FAILURE() << path << ": unknown line: " << line;
        }
    }
    return test;
}

/// The command (the first word that is not an option) and its operands.
std::pair<std::string, std::vector<std::string>> command_of(const SolverTest& test) {
    std::string command;
    std::vector<std::string> operands;
    for (const auto& arg : test.args) {
        if (arg.starts_with('-')) {
            continue;
        }
        if (command.empty()) {
            command = arg;
        } else {
            operands.push_back(arg);
        }
    }
    return {command, operands};
}

/// The tests the comparison applies to: `add` on an empty system (no installed database).
bool applies(const SolverTest& test) {
    const bool instdb = std::any_of(test.args.begin(), test.args.end(), [](const std::string& a) {
        return a.starts_with("--test-instdb");
    });
    return !test.installed && !instdb && command_of(test).first == "add";
}

/// A request as the resolver takes it, or why there is none.
struct Mapped {
    std::optional<resolve::Request> request; ///< nullopt: refused or not expressible
    bool refused = false;                    ///< apk refuses the arguments themselves
    std::string why;
};

/// What the resolver can be asked of the test's `add` (and its world, which on an empty system
/// is only more requests).
Mapped request_for(const SolverTest& test) {
    // Options that change nothing about which packages are chosen.
    const std::set<std::string> neutral = {"--no-network", "--root-tmpfs=yes"};
    for (const auto& arg : test.args) {
        if (arg.starts_with('-') && !neutral.contains(arg)) {
            return {std::nullopt, false, fmt::format("option {}", arg)};
        }
    }
    resolve::Request request;
    request.distro = manifest::Distro::alpine;
    request.arch = "x86_64";
    auto tokens = command_of(test).second;
    tokens.insert(tokens.end(), test.world.begin(), test.world.end());
    for (const auto& token : tokens) {
        const auto dependency = parse_dependency(token);
        if (!dependency) {
            // apk stops at an argument it cannot read, before it solves anything.
            return {std::nullopt, true, fmt::format("{} is not a valid dependency", token)};
        }
        if (dependency->conflict) {
            return {std::nullopt, false, fmt::format("{}: a conflict", token)};
        }
        if (dependency->op == Op::checksum) {
            return {std::nullopt, false, fmt::format("{}: a package checksum", token)};
        }
        manifest::PackageRequest package;
        package.name = dependency->name;
        package.tag = dependency->tag;
        if (dependency->op != Op::any) {
            package.relation = std::string(operator_text(dependency->op));
            package.version = dependency->version;
        }
        request.packages.push_back(package);
    }
    return {request, false, {}};
}

using PackageSet = std::set<std::pair<std::string, std::string>>;

/// apk's answer: the packages it installs, or nullopt when it fails.
std::optional<PackageSet> expected_of(const SolverTest& test) {
    PackageSet installs;
    for (const auto& line : test.expect) {
        if (line.starts_with("ERROR:")) {
            return std::nullopt;
        }
        // "(1/2) Installing NAME (VERSION)"; a package from a tagged repository is shown as
        // NAME@tag.
        const auto at = line.find(") Installing ");
        if (at == std::string::npos || !line.starts_with('(')) {
            continue;
        }
        const auto rest = line.substr(at + 13);
        const auto open = rest.find(" (");
        EXPECT_NE(open, std::string::npos) << test.name << ": " << line;
        if (open == std::string::npos || !rest.ends_with(')')) {
            continue;
        }
        auto name = rest.substr(0, open);
        name = name.substr(0, name.find('@'));
        installs.emplace(name, rest.substr(open + 2, rest.size() - open - 3));
    }
    return installs;
}

std::string show(const std::optional<PackageSet>& set) {
    if (!set) {
        return "failure";
    }
    std::vector<std::string> names;
    for (const auto& [name, version] : *set) {
        names.push_back(fmt::format("{}-{}", name, version));
    }
    return fmt::format("{{{}}}", fmt::join(names, ", "));
}

/// The repository `file` with its made-up `C:` checksums made canonical: apk's decoder ignores
/// the two padding bits of the last base64 letter, distill refuses a checksum that sets them
/// (apk never writes one), and the checksum plays no part in solving.
std::filesystem::path canonical_copy(const std::string& file, const std::filesystem::path& dir) {
    static const std::string k_base64 =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::istringstream in(core::read_file(test::testdata_dir() / k_dir / file));
    std::string out;
    for (std::string line; std::getline(in, line);) {
        // "C:Q1" + 27 letters + "=": the 27th letter carries the padding bits.
        if (line.starts_with("C:Q1") && line.size() == 32) {
            const auto value = k_base64.find(line[30]);
            if (value != std::string::npos) {
                line[30] = k_base64[value & ~std::size_t{3}];
            }
        }
        out += line + "\n";
    }
    const auto path = dir / file;
    core::write_file_atomic(path, out);
    return path;
}

/// distill's answer for `request` from the test's repositories.
std::optional<PackageSet> solve(const SolverTest& test, const resolve::Request& request) {
    const test::ScratchDir scratch;
    std::vector<resolve::RepoInput> inputs;
    for (const auto& [tag, file] : test.repos) {
        resolve::RepoInput input;
        input.tag = tag;
        input.label = file;
        input.format = resolve::IndexFormat::native;
        input.path = canonical_copy(file, scratch.path());
        input.served_as = file + ": APKINDEX";
        inputs.push_back(input);
    }
    core::NullReporter reporter;
    const auto resolution = resolve::resolve(request, inputs, resolve::Options{}, reporter);
    if (!resolution.solved()) {
        return std::nullopt;
    }
    PackageSet installs;
    for (const auto& package : resolution.plan.packages) {
        installs.emplace(package.name, package.version);
    }
    return installs;
}

const KnownGap* known_gap(const std::string& name) {
    for (const auto& gap : k_known_gaps) {
        if (name == gap.test) {
            return &gap;
        }
    }
    return nullptr;
}

TEST(DistroAlpineSolver, ApkToolsAddTestsFromAnEmptySystem) {
    DISTILL_REQUIRE_TESTDATA(k_dir);
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(test::testdata_dir() / k_dir)) {
        if (entry.path().extension() == ".test") {
            files.push_back(entry.path());
        }
    }
    std::sort(files.begin(), files.end());
    ASSERT_GT(files.size(), 100U) << "the apk-tools solver tests are incomplete";

    int total = 0;
    int applicable = 0;
    int passed = 0;
    int not_expressible = 0;
    int differing = 0;
    std::set<std::string> seen_gaps;
    for (const auto& file : files) {
        const auto test = read_test(file);
        ++total;
        if (!applies(test)) {
            EXPECT_EQ(known_gap(test.name), nullptr)
                << test.name << " is listed as a known gap but does not apply";
            continue;
        }
        ++applicable;
        const auto* gap = known_gap(test.name);
        if (gap != nullptr) {
            seen_gaps.insert(test.name);
        }
        const auto expected = expected_of(test);
        const auto mapped = request_for(test);
        if (!mapped.request && !mapped.refused) {
            EXPECT_TRUE(gap != nullptr && gap->gap == Gap::not_expressible)
                << test.name << ": cannot be asked of the resolver (" << mapped.why
                << "), but is not listed as not expressible";
            ++not_expressible;
            continue;
        }
        EXPECT_FALSE(gap != nullptr && gap->gap == Gap::not_expressible)
            << test.name << " is listed as not expressible, but now is: remove it from the list";
        // apk refuses an argument it cannot read: that is its failure.
        const auto got = mapped.refused ? std::nullopt : solve(test, *mapped.request);
        const bool same = got == expected;
        if (gap != nullptr && gap->gap == Gap::differs) {
            EXPECT_FALSE(same) << test.name << " is listed as differing (" << gap->reason
                               << "), but now gives apk's answer: remove it from the list";
            differing += same ? 0 : 1;
            continue;
        }
        EXPECT_TRUE(same) << test.name << ": apk gives " << show(expected) << ", distill gives "
                          << show(got);
        passed += same ? 1 : 0;
    }
    for (const auto& gap : k_known_gaps) {
        EXPECT_TRUE(seen_gaps.contains(gap.test)) << gap.test << " is listed but was not run";
    }

    const int listed = static_cast<int>(std::size(k_known_gaps));
    EXPECT_EQ(passed, applicable - listed);
    EXPECT_EQ(not_expressible + differing, listed);
    ::testing::Test::RecordProperty("solver_tests", total);
    ::testing::Test::RecordProperty("applicable", applicable);
    ::testing::Test::RecordProperty("passed", passed);
    ::testing::Test::RecordProperty("not_expressible", not_expressible);
    ::testing::Test::RecordProperty("differing", differing);
}

} // namespace
} // namespace distill::distro::alpine
