// What distill suggests for a suite the mirror does not have: names close to the one written,
// each confirmed by the mirror (here a file:// archive in a scratch directory), and the
// manifest error that carries them.

#include <algorithm>
#include <string>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <distill/core/http.hpp>
#include <distill/distro/debian/releases.hpp>

#include "support.hpp"

namespace distill::distro::debian {
namespace {

using sources::Repository;
using sources::SuiteOrigin;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class SourcesReleases : public test::ScratchTest {
protected:
    void SetUp() override {
        for (const char* suite : {"bookworm", "bookworm-updates", "trixie", "stable"}) {
            write(std::string("dists/") + suite + "/InRelease", "signed text");
        }
    }

    /// A repository of the scratch archive for `suite`, made from `release` or named in
    /// `suites`.
    [[nodiscard]] Repository repository(const std::string& suite, const std::string& release,
                                        SuiteOrigin origin) const {
        Repository repository;
        repository.url = "file://" + scratch().string();
        repository.suite = suite;
        repository.release = release;
        repository.suite_origin = origin;
        repository.suite_where = manifest::Location{"app.yaml", 3, 10};
        return repository;
    }

    core::HttpClient m_http;
};

TEST_F(SourcesReleases, TheTableKnowsTheCodenamesAndAliases) {
    const auto names = release_names();
    for (const char* name : {"bookworm", "trixie", "sid", "stable", "oldstable", "testing"}) {
        EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
    }
}

TEST_F(SourcesReleases, HeadTellsWhetherAFileIsThereWithoutReadingIt) {
    const auto url = "file://" + scratch().string() + "/dists/bookworm/InRelease";
    EXPECT_EQ(m_http.head(core::HttpRequest{url, {}, {}}).status, 200);
    EXPECT_THROW((void)m_http.head(core::HttpRequest{url + ".missing", {}, {}}),
                 core::NetworkError);
}

TEST_F(SourcesReleases, AMisspeltReleaseGetsTheReleaseTheMirrorHas) {
    EXPECT_THAT(similar_names(repository("bookwrom", "bookwrom", SuiteOrigin::release), m_http),
                ElementsAre("bookworm"));
}

TEST_F(SourcesReleases, ADefaultSuiteIsConfirmedWithItsSuffix) {
    // bookwrom-updates: the suggestion is the release, confirmed by bookworm-updates.
    EXPECT_THAT(
        similar_names(repository("bookwrom-updates", "bookwrom", SuiteOrigin::release), m_http),
        ElementsAre("bookworm"));
    // trixie is served, trixie-updates is not: no suggestion for trixi's -updates suite.
    EXPECT_THAT(similar_names(repository("trixi-updates", "trixi", SuiteOrigin::release), m_http),
                IsEmpty());
    EXPECT_THAT(similar_names(repository("trixi", "trixi", SuiteOrigin::release), m_http),
                ElementsAre("trixie"));
}

TEST_F(SourcesReleases, ANamedSuiteGetsSuitesAndATypoInTheSuffixIsCaughtToo) {
    EXPECT_THAT(
        similar_names(repository("bookworm-updaets", "bookworm", SuiteOrigin::suites), m_http),
        ElementsAre("bookworm-updates"));
    EXPECT_THAT(similar_names(repository("stabel", "bookworm", SuiteOrigin::suites), m_http),
                ElementsAre("stable"));
}

TEST_F(SourcesReleases, ANameTheMirrorDoesNotServeIsNotSuggested) {
    // buster is close to "bustr" but this mirror has no buster.
    EXPECT_THAT(similar_names(repository("bustr", "bustr", SuiteOrigin::release), m_http),
                IsEmpty());
}

TEST_F(SourcesReleases, TheErrorIsAManifestErrorAtTheReleaseLine) {
    const auto repo = repository("bookwrom", "bookwrom", SuiteOrigin::release);
    const auto url = repo.url + "/dists/bookwrom/InRelease";
    const auto error = missing_suite_error(repo, url, m_http);
    EXPECT_EQ(error.exit_code(), ExitCode::manifest);
    EXPECT_TRUE(error.located());
    ASSERT_EQ(error.diagnostics().size(), 1U);
    const auto& diagnostic = error.diagnostics().front();
    EXPECT_EQ(diagnostic.where.str(), "app.yaml:3:10");
    EXPECT_EQ(diagnostic.message,
              fmt::format("release `bookwrom`: {} has no such release ({}: not found, HTTP 404)",
                          repo.url, url));
    EXPECT_EQ(diagnostic.hint, "did you mean bookworm?");
}

TEST_F(SourcesReleases, AMissingDefaultSuiteOfAGoodReleaseSaysHowToNameTheSuites) {
    const auto repo = repository("stable-updates", "stable", SuiteOrigin::release);
    const auto error =
        missing_suite_error(repo, repo.url + "/dists/stable-updates/InRelease", m_http);
    const auto& diagnostic = error.diagnostics().front();
    EXPECT_THAT(diagnostic.message, HasSubstr("has no suite stable-updates"));
    EXPECT_EQ(diagnostic.hint, "name the suites the release has under sources, e.g. "
                               "`suites: [stable]`");
}

} // namespace
} // namespace distill::distro::debian
