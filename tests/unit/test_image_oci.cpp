// OCI documents: the image config and its platform, as canonical JSON.

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <distill/image/oci.hpp>

namespace distill::image {
namespace {

using ::testing::HasSubstr;

TEST(ImageOci, ConfigAndManifestAreCanonicalJson) {
    ConfigInput input;
    input.platform = platform_for(manifest::Distro::debian, "arm64");
    input.config.entrypoint = {"/usr/bin/java"};
    input.config.env = {{"PATH", "/usr/bin"}, {"JAVA_VERSION", "17"}};
    input.config.workdir = "/";
    input.config.ports = {"8080", "53/udp"};
    input.user = "65532:65532";
    input.epoch = 0;
    input.diff_id = "sha256:" + std::string(64, 'a');
    input.history = "distill build test";
    const auto config = config_json(input);
    EXPECT_EQ(config, config_json(input));
    EXPECT_THAT(config, HasSubstr(R"("architecture":"arm64")"));
    EXPECT_THAT(config, HasSubstr(R"("variant":"v8")"));
    EXPECT_THAT(config, HasSubstr(R"("created":"1970-01-01T00:00:00Z")"));
    EXPECT_THAT(config, HasSubstr(R"("Env":["JAVA_VERSION=17","PATH=/usr/bin"])"));
    EXPECT_THAT(config, HasSubstr(R"("ExposedPorts":{"53/udp":{},"8080/tcp":{}})"));
    EXPECT_THAT(config, HasSubstr(R"("User":"65532:65532")"));
    EXPECT_EQ(rfc3339(1700000000), "2023-11-14T22:13:20Z");
    EXPECT_THROW((void)platform_for(manifest::Distro::debian, "x86_64"), Error);
}

} // namespace
} // namespace distill::image
