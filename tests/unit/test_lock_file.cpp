// Lockfiles: the round trip, the digest of a manifest and what it includes, and clear errors.

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <distill/core/fs.hpp>
#include <distill/lock/lock.hpp>

#include "support.hpp"

namespace distill {
namespace {

using ::testing::HasSubstr;

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
