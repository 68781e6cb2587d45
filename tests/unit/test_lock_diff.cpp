// Lockfiles (round trip, digests of manifests) and Debian changelogs (what a diff reports).

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <distill/core/fs.hpp>
#include <distill/core/gzip.hpp>
#include <distill/distro/debian/changelog.hpp>
#include <distill/image/compress.hpp>
#include <distill/lock/lock.hpp>

#include "support.hpp"

namespace distill {
namespace {

namespace deb = distro::debian;

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr const char* k_changelog = R"(openssl (3.0.17-1~deb12u2) bookworm-security; urgency=medium

  * Non-maintainer upload by the Security Team.
  * CVE-2025-9230 (out-of-bounds read and write in RFC 3211 KEK unwrap)
  * CVE-2025-9232: out-of-bounds read in HTTP client no_proxy handling
    (Closes: #1116000)

 -- Someone <someone@debian.org>  Tue, 30 Sep 2025 10:00:00 +0200

openssl (3.0.17-1~deb12u1) bookworm; urgency=medium

  * New upstream release. Closes: #1105000, #1105001
  * CVE-2025-9230 is mentioned again, and CVE-2025-27587.

 -- Someone <someone@debian.org>  Mon, 01 Jul 2025 10:00:00 +0200

openssl (3.0.15-1~deb12u1) bookworm; urgency=medium

  * CVE-2024-5535 fixed.

 -- Someone <someone@debian.org>  Mon, 01 Nov 2024 10:00:00 +0200
)";

TEST(DebChangelog, EntriesAreParsed) {
    const auto entries = deb::parse_changelog(k_changelog);
    ASSERT_EQ(entries.size(), 3U);
    EXPECT_EQ(entries[0].source, "openssl");
    EXPECT_EQ(entries[0].version, "3.0.17-1~deb12u2");
    EXPECT_EQ(entries[0].distribution, "bookworm-security");
    EXPECT_THAT(entries[0].text, HasSubstr("Non-maintainer upload"));
    EXPECT_THAT(entries[0].text, ::testing::Not(HasSubstr(" -- ")));
}

TEST(DebChangelog, FixesBetweenTwoVersionsExcludeTheOldOne) {
    const auto entries = deb::parse_changelog(k_changelog);
    const auto fixes = deb::fixes_between(entries, "3.0.15-1~deb12u1", "3.0.17-1~deb12u2");
    EXPECT_THAT(fixes.versions, ElementsAre("3.0.17-1~deb12u2", "3.0.17-1~deb12u1"));
    EXPECT_THAT(fixes.cves, ElementsAre("CVE-2025-9230", "CVE-2025-9232", "CVE-2025-27587"));
    EXPECT_THAT(fixes.bugs, ElementsAre("1116000", "1105000", "1105001"));
    const auto one = deb::fixes_between(entries, "3.0.17-1~deb12u1", "3.0.17-1~deb12u2");
    EXPECT_THAT(one.cves, ElementsAre("CVE-2025-9230", "CVE-2025-9232"));
    EXPECT_TRUE(deb::fixes_between(entries, "3.0.17-1~deb12u2", "3.0.17-1~deb12u2").cves.empty());
}

TEST(CoreGzip, MultiMemberDataExpandsWhole) {
    // More than one member: distill's own layer compressor cuts every MiB.
    const std::string input(3U << 20U, 'x');
    std::string gz;
    auto compressor =
        image::make_compressor(image::Compression::gzip, 2, [&](std::span<const std::byte> data) {
            gz.append(reinterpret_cast<const char*>(data.data()), data.size());
        });
    compressor->write(std::as_bytes(std::span(input.data(), input.size())));
    compressor->finish();
    EXPECT_EQ(core::gunzip(gz, "test"), input);
    EXPECT_THROW((void)core::gunzip("not gzip", "test"), Error);
    EXPECT_THROW((void)core::gunzip(std::string_view(gz).substr(0, gz.size() / 2), "test"), Error);
}

class LockFile : public test::ScratchTest {};

TEST_F(LockFile, RoundTripAndDigests) {
    const auto base = write("base.yaml", "name: base\ndistro: debian\nrelease: bookworm\n");
    const auto top = write("java.yaml", "include: base.yaml\nname: java\n");
    auto manifest = manifest::parse(top);
    resolve::Plan plan;
    plan.arch = "amd64";
    resolve::PlannedPackage zlib{"zlib1g",
                                 "1:1.2.13.dfsg-1",
                                 "amd64",
                                 170000,
                                 90000,
                                 std::string(64, 'a'),
                                 "http://mirror.invalid/pool/z.deb",
                                 "bookworm",
                                 "zlib",
                                 {"zlib1g"}};
    resolve::PlannedPackage libc = zlib;
    libc.name = "libc6";
    libc.sha256 = std::string(64, 'b');
    plan.packages = {zlib, libc};
    plan.excluded = {{"dash", "shell", {"libc6"}}};
    sources::Provenance provenance{"http://mirror.invalid/dists/bookworm/InRelease",
                                   std::string(64, 'c'),
                                   {"B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8"},
                                   "/usr/share/keyrings/debian-archive-keyring.gpg"};
    const auto lock = lock::make(manifest, {plan}, {provenance, provenance});
    EXPECT_EQ(lock.sources.size(), 1U);
    ASSERT_EQ(lock.archs.size(), 1U);
    EXPECT_EQ(lock.archs[0].packages[0].name, "libc6"); // sorted by name
    EXPECT_EQ(lock.manifests, (std::vector<std::string>{"base.yaml", "java.yaml"}));
    const auto path = lock::path_for(top);
    EXPECT_EQ(path, scratch() / "java.lock");
    lock::write(path, lock);
    const auto text = core::read_file(path);
    EXPECT_TRUE(text.starts_with("{\n  \"lockfile_version\": 1,\n  \"name\": \"java\",\n")) << text;
    EXPECT_THAT(text, HasSubstr("          \"name\": \"libc6\",\n          \"version\": "
                                "\"1:1.2.13.dfsg-1\",\n"));
    const auto again = lock::read(path);
    EXPECT_EQ(lock::to_text(again), text);
    EXPECT_EQ(again.manifest_digest, lock::manifest_digest(manifest));
    // Editing an included manifest changes the digest; moving the files does not.
    write("base.yaml", "name: base\ndistro: debian\nrelease: trixie\n");
    EXPECT_NE(lock::manifest_digest(manifest::parse(top)), again.manifest_digest);
    (void)base;
}

TEST_F(LockFile, NotALockIsAClearError) {
    const auto path = write("broken.lock", "{\"lockfile_version\": 1}");
    try {
        (void)lock::read(path);
        FAIL() << "accepted";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("broken.lock: not a distill lockfile"));
    }
    write("future.lock", "{\"lockfile_version\": 7}");
    EXPECT_THROW((void)lock::read(scratch() / "future.lock"), Error);
}

} // namespace
} // namespace distill
