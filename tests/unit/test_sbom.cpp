#include <gtest/gtest.h>

#include <distill/sbom/license.hpp>
#include <distill/sbom/sbom.hpp>
#include <distill/unpack/tree.hpp>

namespace distill::sbom {
namespace {

constexpr std::string_view k_header =
    "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
    "Upstream-Name: x\n\n";

TEST(SbomLicense, DebianShortNamesBecomeSpdxIdentifiersJoinedWithAnd) {
    const auto text = std::string(k_header) +
                      "Files: *\nCopyright: someone\nLicense: GPL-2+\n\n"
                      "Files: debian/*\nCopyright: Debian\nLicense: Expat\n\n"
                      "Files: lib/*\nLicense: LGPL-2.1+ or GPL-2+\n\n"
                      "License: BSD-3-clause\n The text, which no Files paragraph uses.\n";
    EXPECT_EQ(license_from_copyright(text),
              "GPL-2.0-or-later AND (LGPL-2.1-or-later OR GPL-2.0-or-later) AND MIT");
}

TEST(SbomLicense, ExceptionsAndTheHeadersOwnLicense) {
    EXPECT_EQ(
        license_from_copyright(std::string(k_header) +
                               "Files: *\nLicense: GPL-3+ with GCC-exception-3.1 exception\n"),
        "GPL-3.0-or-later WITH GCC-exception-3.1");
    EXPECT_EQ(license_from_copyright(
                  "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
                  "License: Apache-2.0\n"),
              "Apache-2.0");
}

TEST(SbomLicense, WhatDoesNotTranslateExactlyIsNoAssertion) {
    // Not machine-readable.
    EXPECT_EQ(license_from_copyright("This package was debianized by someone.\nGPL-2\n"),
              std::nullopt);
    // A licence without an SPDX identifier, an unknown exception, DEP-5's comma grouping.
    for (const char* license : {"public-domain", "GPL-2+ with OpenSSL exception",
                                "GPL-2+ or Artistic, and BSD-3-clause", "custom-thing"}) {
        EXPECT_EQ(
            license_from_copyright(std::string(k_header) + "Files: *\nLicense: " + license + "\n"),
            std::nullopt)
            << license;
    }
    // One untranslatable Files paragraph makes the whole package NOASSERTION.
    EXPECT_EQ(license_from_copyright(std::string(k_header) + "Files: *\nLicense: MIT\n\n"
                                                             "Files: x/*\nLicense: other\n"),
              std::nullopt);
    // Bounded.
    EXPECT_EQ(license_from_copyright(std::string(k_header) + "Files: *\nLicense: MIT\n" +
                                     std::string(std::size_t{2} << 20U, '#')),
              std::nullopt);
}

TEST(SbomLicense, SpdxExpressionsAreCheckedAndSpelledAsSpdxDoes) {
    EXPECT_EQ(spdx_expression("mit"), "MIT");
    EXPECT_EQ(spdx_expression("MIT AND (GPL-2.0-or-later OR bsd-3-clause)"),
              "MIT AND (GPL-2.0-or-later OR BSD-3-Clause)");
    EXPECT_EQ(spdx_expression("Apache-2.0 WITH LLVM-exception"), "Apache-2.0 WITH LLVM-exception");
    for (const char* bad : {"", "GPL-2.0+", "custom", "MIT AND", "(MIT", "MIT)", "MIT OR OR ISC",
                            "MIT WITH", "MIT WITH nothing"}) {
        EXPECT_EQ(spdx_expression(bad), std::nullopt) << bad;
    }
}

TEST(SbomPurl, EveryPartIsPercentEncodedAndTheDistroIsAQualifier) {
    package::Record record;
    record.name = "libstdc++6";
    record.version = "1:12.2.0-14";
    record.arch = "amd64";
    record.source = "gcc-12";
    PackageFacts facts;
    facts.purl_type = "deb";
    facts.source_version = "12.2.0-14";
    EXPECT_EQ(purl(record, facts, OsRelease{"debian", "12", ""}),
              "pkg:deb/debian/libstdc%2B%2B6@1%3A12.2.0-14?arch=amd64&distro=debian-12"
              "&upstream=gcc-12%4012.2.0-14");
    record = {};
    record.name = "musl";
    record.version = "1.2.4-r2";
    record.arch = "x86_64";
    record.source = "musl";
    facts.purl_type = "apk";
    EXPECT_EQ(purl(record, facts, OsRelease{"alpine", "3.19.1", ""}),
              "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.19.1&upstream=musl");
}

TEST(SbomOsRelease, ReadsTheFileEtcOsReleaseLinksTo) {
    unpack::Tree tree({});
    tree.put_file("usr/lib/os-release",
                  "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n"
                  "VERSION_ID=\"12\"\nID=debian\n# a comment\n");
    tree.put_symlink("etc/os-release", "../usr/lib/os-release");
    const auto os = os_release(tree);
    EXPECT_EQ(os.id, "debian");
    EXPECT_EQ(os.version_id, "12");
    EXPECT_EQ(os.pretty_name, "Debian GNU/Linux 12 (bookworm)");
    EXPECT_EQ(os_release(unpack::Tree({})).id, "");
}

TEST(SbomArtifact, AnArtifactManifestNamesItsSubjectAndTheEmptyConfig) {
    const auto text = artifact_manifest(
        k_spdx_media_type, image::Descriptor{std::string(k_spdx_media_type), "sha256:aa", 10},
        image::Descriptor{"application/vnd.oci.image.manifest.v1+json", "sha256:bb", 20},
        "x-amd64.spdx.json", 0);
    const auto json = nlohmann::json::parse(text);
    EXPECT_EQ(json["artifactType"], k_spdx_media_type);
    EXPECT_EQ(json["subject"]["digest"], "sha256:bb");
    EXPECT_EQ(json["config"]["mediaType"], k_empty_media_type);
    EXPECT_EQ(json["config"]["size"], 2);
    EXPECT_EQ(json["layers"][0]["digest"], "sha256:aa");
    EXPECT_EQ(json["annotations"]["org.opencontainers.image.created"], "1970-01-01T00:00:00Z");
}

} // namespace
} // namespace distill::sbom
