// Registry credentials (auth.json, docker's config.json, credential helpers) and the parsing of
// WWW-Authenticate challenges; the token flow itself runs against a real registry in
// tests/system/test_push.py.
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <distill/core/base64.hpp>
#include <distill/core/error.hpp>
#include <distill/core/process.hpp>
#include <distill/registry/auth.hpp>
#include <distill/registry/client.hpp>
#include <distill/registry/credentials.hpp>
#include <distill/registry/push.hpp>

#include "support.hpp"

namespace distill::registry {
namespace {

using ::testing::HasSubstr;

TEST(CoreBase64, RoundTripsAndRefusesWhatIsNotBase64) {
    const std::vector<std::string> texts{"",    "a",           "ab",
                                         "abc", "user:s3cret", std::string("\0\xff", 2)};
    for (const auto& text : texts) {
        const auto encoded = core::base64_encode(text);
        EXPECT_EQ(core::base64_decode(encoded), text) << encoded;
    }
    EXPECT_EQ(core::base64_encode("user:pass"), "dXNlcjpwYXNz");
    EXPECT_EQ(core::base64_decode("not base64!"), std::nullopt);
    EXPECT_EQ(core::base64_decode("abc"), std::nullopt);
}

TEST(CoreProcess, GivesInputOnStdinAndBoundsOutput) {
    const auto result = core::run_process({"cat"}, std::string("registry.example.org\n"));
    EXPECT_EQ(result.exit_code, 0);
    EXPECT_EQ(result.out, "registry.example.org\n");
    EXPECT_THROW((void)core::run_process({"yes"}, std::nullopt, 4096), Error);
}

TEST(RegistryChallenge, ParsesBearerAndBasic) {
    const auto bearer = parse_challenge(
        R"(Bearer realm="https://auth.example.org/token",service="registry.example.org",scope="repository:team/app:pull,push")");
    ASSERT_TRUE(bearer.has_value());
    EXPECT_EQ(bearer->scheme, "bearer");
    EXPECT_EQ(bearer->params.at("realm"), "https://auth.example.org/token");
    EXPECT_EQ(bearer->params.at("service"), "registry.example.org");
    EXPECT_EQ(bearer->params.at("scope"), "repository:team/app:pull,push");
    const auto basic = parse_challenge(R"(Basic realm="distill \"test\"")");
    ASSERT_TRUE(basic.has_value());
    EXPECT_EQ(basic->scheme, "basic");
    EXPECT_EQ(basic->params.at("realm"), "distill \"test\"");
    EXPECT_EQ(parse_challenge(""), std::nullopt);
    EXPECT_EQ(parse_challenge(R"(Bearer realm="unterminated)"), std::nullopt);
}

TEST(RegistryReference, DockerHubNamesAreUnderLibrary) {
    EXPECT_EQ(registry_of(image::parse_reference("app:1")), "docker.io");
    EXPECT_EQ(repository_of(image::parse_reference("app:1")), "library/app");
    EXPECT_EQ(repository_of(image::parse_reference("team/app:1")), "team/app");
    EXPECT_EQ(registry_of(image::parse_reference("localhost:5000/team/app")), "localhost:5000");
    EXPECT_EQ(repository_of(image::parse_reference("localhost:5000/app")), "app");
    EXPECT_TRUE(is_loopback("127.0.0.1:5000"));
    EXPECT_TRUE(is_loopback("localhost"));
    EXPECT_TRUE(is_loopback("[::1]:5000"));
    EXPECT_FALSE(is_loopback("registry.example.org"));
}

class RegistryCredentials : public test::ScratchTest {
protected:
    std::optional<Credentials> find(const std::string& registry, const std::string& repository,
                                    const std::vector<std::filesystem::path>& files) {
        CredentialSearch search;
        return find_credentials(registry, repository, files, search);
    }
};

TEST_F(RegistryCredentials, AuthsEntriesWithSchemesPathsAndNamespaces) {
    const auto file = write("auth.json", R"({"auths": {
        "https://registry.example.org/v1/": {"auth": ")" +
                                             core::base64_encode("alice:pw-1") + R"("},
        "registry.example.org/team": {"auth": ")" +
                                             core::base64_encode("bob:pw-2") + R"("},
        "other.example.org": {"username": "carol", "password": "pw-3"},
        "token.example.org": {"identitytoken": "refresh-me"},
        "empty.example.org": {"auth": ""}}})");
    auto found = find("registry.example.org", "apps/web", {file});
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->username, "alice");
    EXPECT_EQ(found->secret, "pw-1");
    EXPECT_EQ(found->source, file.string());
    // The longest key that holds the repository wins.
    found = find("registry.example.org", "team/app", {file});
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->username, "bob");
    found = find("other.example.org", "x", {file});
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->secret, "pw-3");
    found = find("token.example.org", "x", {file});
    ASSERT_TRUE(found.has_value());
    EXPECT_TRUE(found->identity_token);
    EXPECT_EQ(found->secret, "refresh-me");
    EXPECT_EQ(find("empty.example.org", "x", {file}), std::nullopt);
    EXPECT_EQ(find("nowhere.example.org", "x", {file}), std::nullopt);
}

TEST_F(RegistryCredentials, TheFirstFileWithAnEntryWinsAndMissingFilesAreSkipped) {
    const auto first = write("a.json", R"({"auths": {}})");
    const auto second = write("b.json", R"({"auths": {"r.example.org": {"auth": ")" +
                                            core::base64_encode("dave:pw") + R"("}}})");
    CredentialSearch search;
    const auto found =
        find_credentials("r.example.org", "x", {scratch() / "missing.json", first, second}, search);
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->source, second.string());
    EXPECT_EQ(search.tried.size(), 3U);
}

TEST_F(RegistryCredentials, HelpersAreRunWithTheRegistryOnStdin) {
    // A credential helper of the docker protocol: `get` reads the server on stdin.
    const auto bin = scratch() / "bin";
    write("bin/docker-credential-fake",
          "#!/bin/sh\nread server\n"
          "if [ \"$server\" = r.example.org ]; then\n"
          "  echo '{\"ServerURL\":\"r.example.org\",\"Username\":\"erin\",\"Secret\":\"pw-5\"}'\n"
          "else echo 'credentials not found in native keychain'; exit 1; fi\n");
    std::filesystem::permissions(bin / "docker-credential-fake", std::filesystem::perms::owner_all);
    const std::string path = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
    ::setenv("PATH", (bin.string() + ":" + path).c_str(), 1);
    const auto file =
        write("config.json", R"({"credHelpers": {"r.example.org": "fake"}, "credsStore": "fake"})");
    auto found = find("r.example.org", "x", {file});
    ::setenv("PATH", path.c_str(), 1);
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->username, "erin");
    EXPECT_EQ(found->secret, "pw-5");
    EXPECT_EQ(found->source, "docker-credential-fake");
    // "not found" from the store: no credentials, not an error.
    ::setenv("PATH", (bin.string() + ":" + path).c_str(), 1);
    found = find("s.example.org", "x", {file});
    ::setenv("PATH", path.c_str(), 1);
    EXPECT_EQ(found, std::nullopt);
    // A helper that is not installed is an error naming it.
    const auto missing = write("missing.json", R"({"credsStore": "nonexistent-helper"})");
    try {
        (void)find("r.example.org", "x", {missing});
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("docker-credential-nonexistent-helper"));
    }
}

TEST_F(RegistryCredentials, MalformedFilesAreErrorsNamingThem) {
    const auto broken = write("broken.json", "{not json");
    const auto bad_auth = write("bad.json", R"({"auths": {"r.example.org": {"auth": "%%%"}}})");
    const auto bad_helper = write("helper.json", R"({"credHelpers": {"r.example.org": "../x"}})");
    for (const auto& file : {broken, bad_auth, bad_helper}) {
        try {
            (void)find("r.example.org", "x", {file});
            FAIL() << file << ": no error";
        } catch (const Error& e) {
            if (file != bad_helper) {
                EXPECT_THAT(e.what(), HasSubstr(file.string()));
            } else {
                EXPECT_THAT(e.what(), HasSubstr("not a helper name"));
            }
        }
    }
}

TEST(RegistryCredentialFiles, TheAuthFileOptionAndTheEnvironmentDecideWhere) {
    EXPECT_EQ(credential_files(std::filesystem::path("/x/auth.json")),
              std::vector<std::filesystem::path>{"/x/auth.json"});
    ::setenv("REGISTRY_AUTH_FILE", "/y/auth.json", 1);
    EXPECT_EQ(credential_files(), std::vector<std::filesystem::path>{"/y/auth.json"});
    ::unsetenv("REGISTRY_AUTH_FILE");
    ::setenv("XDG_RUNTIME_DIR", "/run/user/7", 1);
    ::setenv("DOCKER_CONFIG", "/d", 1);
    EXPECT_EQ(credential_files(), (std::vector<std::filesystem::path>{
                                      "/run/user/7/containers/auth.json", "/d/config.json"}));
    ::unsetenv("DOCKER_CONFIG");
}

} // namespace
} // namespace distill::registry
