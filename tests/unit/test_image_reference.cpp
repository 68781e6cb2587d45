// Image references: the distribution reference grammar, what `--tag` means, and the names
// docker and podman give what they load.

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <distill/image/reference.hpp>

namespace distill::image {
namespace {

using ::testing::HasSubstr;

/// The message parse_reference throws for `text` (fails the test when it does not throw).
std::string error_of(const std::string& text) {
    try {
        const auto reference = parse_reference(text);
        ADD_FAILURE() << text << " parsed as " << reference.str();
    } catch (const ReferenceError& error) {
        EXPECT_EQ(error.exit_code(), ExitCode::usage) << text;
        return error.what();
    }
    return {};
}

TEST(ImageReference, SplitsRegistryPathAndTag) {
    struct Case {
        std::string text, domain, path, tag;
    };
    const std::vector<Case> cases{
        {"app", "", "app", "latest"},
        {"app:1.2", "", "app", "1.2"},
        {"team/app:1.2", "", "team/app", "1.2"},
        {"localhost/app", "localhost", "app", "latest"},
        {"localhost/team/static:1", "localhost", "team/static", "1"},
        {"localhost:5000/team/app:v2", "localhost:5000", "team/app", "v2"},
        {"registry.example.org/a/b/c/d:x_Y-z.9", "registry.example.org", "a/b/c/d", "x_Y-z.9"},
        {"Registry.Example.org/app", "Registry.Example.org", "app", "latest"},
        {"127.0.0.1:5000/app:1", "127.0.0.1:5000", "app", "1"},
        {"[::1]:5000/app:1", "[::1]:5000", "app", "1"},
        {"[fe80::1]/app", "[fe80::1]", "app", "latest"},
        {"my-host/app", "", "my-host/app", "latest"}, // no `.` or `:`: a path component
        {"team/a.b_c__d---e", "", "team/a.b_c__d---e", "latest"},
        {"a.b/c", "a.b", "c", "latest"},             // a `.`: the registry
        {"localhost:5000", "", "localhost", "5000"}, // as docker reads it: a tag
    };
    for (const auto& c : cases) {
        const auto reference = parse_reference(c.text);
        EXPECT_EQ(reference.domain, c.domain) << c.text;
        EXPECT_EQ(reference.path, c.path) << c.text;
        EXPECT_EQ(reference.tag, c.tag) << c.text;
        EXPECT_FALSE(reference.bare_tag()) << c.text;
    }
}

TEST(ImageReference, WritesTheTagItDefaulted) {
    EXPECT_EQ(parse_reference("localhost/team/static").str(), "localhost/team/static:latest");
    EXPECT_EQ(parse_reference("app:1").str(), "app:1");
    EXPECT_EQ(parse_reference("localhost:5000/a/b:c").str(), "localhost:5000/a/b:c");
}

TEST(ImageReference, QualifiesAsDockerDoes) {
    EXPECT_EQ(parse_reference("static:1").qualified(), "docker.io/library/static:1");
    EXPECT_EQ(parse_reference("team/app").qualified(), "docker.io/team/app:latest");
    EXPECT_EQ(parse_reference("docker.io/app:2").qualified(), "docker.io/library/app:2");
    EXPECT_EQ(parse_reference("index.docker.io/team/app:2").qualified(), "docker.io/team/app:2");
    EXPECT_EQ(parse_reference("localhost/static:1").qualified(), "localhost/static:1");
    EXPECT_EQ(parse_reference("localhost:5000/app").qualified(), "localhost:5000/app:latest");
    EXPECT_EQ(parse_reference("registry.example.org/app:1").qualified(),
              "registry.example.org/app:1");
}

TEST(ImageReference, RefusesWhatTheGrammarDoesNotAllow) {
    struct Case {
        std::string text, says;
    };
    const std::vector<Case> cases{
        {"", "it is empty"},
        {"localhost/Team/app:1", "must be lowercase (`Team`)"},
        {"App:1", "must be lowercase (`App`)"},
        {"team/app_/x", "the path component `app_`"},
        {"team/-app", "the path component `-app`"},
        {"team/a..b", "the path component `a..b`"},
        {"team/a___b", "the path component `a___b`"},
        {"team/a_-b", "the path component `a_-b`"},
        {"team/a b", "the path component `a b`"},
        {"team//app", "empty path component"},
        {"/app", "empty path component"},
        {"localhost/", "empty path component"},
        {"localhost/team/app/", "empty path component"},
        {"app:", "the tag after the last `:` is empty"},
        {":1", "the name before the tag is empty"},
        {"app:-1", "the tag `-1`"},
        {"app:.hidden", "the tag `.hidden`"},
        {"app:a+b", "the tag `a+b`"},
        {"app:" + std::string(129, 'a'), "at most 128 characters"},
        {"local_host.org/app", "the registry `local_host.org`"},
        {"-registry.org/app", "the registry `-registry.org`"},
        {"registry..org/app", "the registry `registry..org`"},
        {"registry.org:/app", "the registry `registry.org:`"},
        {"registry.org:50a0/app", "the registry `registry.org:50a0`"},
        {"[::1/app", "the registry `[::1`"},
        {"[xyz]:5000/app", "the registry `[xyz]:5000`"},
        {"a_b.c/app", "the registry `a_b.c`"},
        {"app@sha256:" + std::string(64, 'a'), "it names a digest (`@sha256:"},
        {"localhost/app:1@sha256:" + std::string(64, 'b'), "a build cannot choose"},
        {"a/b:c/d", "the path component `b:c`"},
    };
    for (const auto& c : cases) {
        const auto message = error_of(c.text);
        EXPECT_THAT(message, HasSubstr(c.says)) << c.text;
        // Every message shows how a good one looks.
        EXPECT_THAT(message, HasSubstr("registry.example.org/team/app:1.2")) << c.text;
    }
}

TEST(ImageReference, NamesAreAtMost255Characters) {
    // 255 characters of name: the longest the grammar allows.
    const std::string longest = "localhost/" + std::string(245, 'a');
    EXPECT_EQ(parse_reference(longest + ":1").path.size(), 245U);
    EXPECT_THAT(error_of(longest + "b:1"), HasSubstr("the name is 256 characters long"));
    // The tag does not count.
    EXPECT_NO_THROW((void)parse_reference(longest + ":" + std::string(128, 't')));
}

TEST(ImageReference, TagsAreWordCharactersDotsAndDashes) {
    EXPECT_TRUE(is_valid_tag("latest"));
    EXPECT_TRUE(is_valid_tag("1.2.3-rc_1"));
    EXPECT_TRUE(is_valid_tag("_x"));
    EXPECT_TRUE(is_valid_tag("UPPER"));
    EXPECT_TRUE(is_valid_tag(std::string(128, '9')));
    EXPECT_FALSE(is_valid_tag(""));
    EXPECT_FALSE(is_valid_tag(std::string(129, '9')));
    EXPECT_FALSE(is_valid_tag(".x"));
    EXPECT_FALSE(is_valid_tag("-x"));
    EXPECT_FALSE(is_valid_tag("a/b"));
    EXPECT_FALSE(is_valid_tag("a:b"));
    EXPECT_FALSE(is_valid_tag("tag with space"));
    EXPECT_FALSE(is_valid_tag("caf\xc3\xa9"));
}

TEST(ImageReference, TagOptionIsABareTagOrAWholeReference) {
    const auto bare = parse_tag_option("1.2");
    EXPECT_TRUE(bare.bare_tag());
    EXPECT_EQ(bare.tag, "1.2");
    EXPECT_TRUE(bare.domain.empty());
    // Without `/`, `:` or `@` it is a tag, even when it reads like a name.
    EXPECT_TRUE(parse_tag_option("static").bare_tag());
    EXPECT_TRUE(parse_tag_option("Latest").bare_tag());

    const auto whole = parse_tag_option("localhost/team/static:1");
    EXPECT_FALSE(whole.bare_tag());
    EXPECT_EQ(whole.str(), "localhost/team/static:1");
    EXPECT_EQ(parse_tag_option("app:1").str(), "app:1");

    try {
        (void)parse_tag_option("-1");
        ADD_FAILURE() << "-1 accepted";
    } catch (const ReferenceError& error) {
        EXPECT_EQ(error.exit_code(), ExitCode::usage);
        EXPECT_THAT(error.what(), HasSubstr("`-1` is not a valid tag"));
        EXPECT_THAT(error.what(), HasSubstr("`1.2`"));
    }
    EXPECT_THROW((void)parse_tag_option(""), ReferenceError);
    EXPECT_THROW((void)parse_tag_option("app@sha256:abc"), ReferenceError);
    EXPECT_THROW((void)parse_tag_option("Localhost/app"), ReferenceError);
}

TEST(ImageReference, BareTagsNameTheImageAfterTheManifest) {
    EXPECT_EQ(reference_for("static", parse_tag_option("1")).str(), "static:1");
    EXPECT_EQ(reference_for("static", parse_tag_option("latest")).qualified(),
              "docker.io/library/static:latest");
    // A whole reference is the name; the manifest's does not matter.
    EXPECT_EQ(reference_for("static", parse_tag_option("localhost/team/app:2")).str(),
              "localhost/team/app:2");
    // Manifest names allow what repository names do not (`.` or `-` at the end, `._`).
    try {
        (void)reference_for("web-", parse_tag_option("1"));
        ADD_FAILURE() << "web- accepted";
    } catch (const ReferenceError& error) {
        EXPECT_EQ(error.exit_code(), ExitCode::usage);
        EXPECT_THAT(error.what(), HasSubstr("the image name `web-` cannot be a repository name"));
        EXPECT_THAT(error.what(), HasSubstr("registry.example.org/team/app:1"));
    }
}

} // namespace
} // namespace distill::image
