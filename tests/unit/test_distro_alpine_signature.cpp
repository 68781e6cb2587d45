// apk v2 signatures: every signed file of the Alpine fixtures (../shared/testdata/alpine,
// MANIFEST.tsv) verifies with the keys beside it, and what is tampered with, unsigned or
// signed by an unknown key does not.

#include <filesystem>
#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <distill/core/digest.hpp>
#include <distill/core/error.hpp>
#include <distill/core/fs.hpp>
#include <distill/distro/alpine/signature.hpp>

#include "apk_support.hpp"
#include "support.hpp"

namespace distill::distro::alpine {
namespace {

namespace fs = std::filesystem;
using test::apk::TestKey;
using ::testing::HasSubstr;

fs::path alpine() {
    return test::testdata_dir() / "alpine";
}

/// Every key of the fixtures in one keyring.
Keyring all_keys() {
    Keyring keys;
    for (const auto* place : {"keys", "apko-testrepo/melange.rsa.pub",
                              "variants/rsa256-signed/test-rsa256.rsa.pub", "wolfi/keys"}) {
        const auto more = load_keyring(alpine() / place);
        keys.keys.insert(more.keys.begin(), more.keys.end());
    }
    keys.source = alpine();
    return keys;
}

std::string musl() {
    return core::read_file(alpine() / "v3.19/iso-repo/x86_64/musl-1.2.4_git20230717-r4.apk");
}

/// The VerificationError message of verifying `bytes`, or a test failure.
std::string refusal(const std::string& bytes, const Keyring& keys) {
    try {
        (void)verify_signed_file(bytes, keys, "test.apk");
    } catch (const VerificationError& error) {
        EXPECT_EQ(error.exit_code(), ExitCode::verification);
        EXPECT_THAT(error.what(), HasSubstr("test.apk"));
        return error.what();
    }
    ADD_FAILURE() << "accepted";
    return {};
}

TEST(AlpineSignature, EverySignedFixtureVerifiesWithItsKey) {
    DISTILL_REQUIRE_TESTDATA("alpine/MANIFEST.tsv");
    const auto keys = all_keys();
    int verified = 0;
    for (const auto& [path, row] : test::apk::manifest_rows()) {
        SCOPED_TRACE(path);
        ASSERT_EQ(row.at("sig_verify_with_included_key"), "OK");
        const auto signer = verify_signed_file(core::read_file(alpine() / path), keys, path);
        // ".SIGN.RSA256.melange.rsa.pub" and "RSA256(sha256)"
        const auto& entry = row.at("signature_entry");
        const auto& algorithm = row.at("sig_algo");
        EXPECT_EQ(signer.algorithm, algorithm.substr(0, algorithm.find('(')));
        EXPECT_EQ(entry, ".SIGN." + signer.algorithm + "." + signer.key_name);
        ++verified;
    }
    EXPECT_EQ(verified, 45);
}

TEST(AlpineSignature, AFlippedByteOfTheSignedMemberFails) {
    DISTILL_REQUIRE_TESTDATA("alpine/MANIFEST.tsv");
    const auto keys = all_keys();
    const auto file = musl();
    const auto members = test::apk::members_of(file);
    ASSERT_EQ(members.size(), 3U);
    const auto control = members[0].size();
    // The gzip header's time stamp: still gzip, no longer the signed bytes.
    auto stamped = file;
    stamped[control + 4] = static_cast<char>(stamped[control + 4] ^ 1);
    EXPECT_THAT(refusal(stamped, keys),
                HasSubstr("RSA signature by alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub "
                          "does not verify"));
    // Inside the compressed data: not gzip any more, or not the signed bytes.
    auto flipped = file;
    const auto middle = control + members[1].size() / 2;
    flipped[middle] = static_cast<char>(flipped[middle] ^ 0x40);
    (void)refusal(flipped, keys);
    // The data member is not signed (the control member's datahash covers it).
    auto data = file;
    data[file.size() - 100] = static_cast<char>(data[file.size() - 100] ^ 1);
    EXPECT_NO_THROW((void)verify_signed_file(data, keys, "test.apk"));
}

TEST(AlpineSignature, AnUnknownKeyIsNamedWithTheKeyring) {
    DISTILL_REQUIRE_TESTDATA("alpine/MANIFEST.tsv");
    const auto wolfi = load_keyring(alpine() / "wolfi/keys");
    const auto message = refusal(musl(), wolfi);
    EXPECT_THAT(message, HasSubstr("alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub"));
    EXPECT_THAT(message, HasSubstr((alpine() / "wolfi/keys").string()));
    // Another key under the right name does not verify.
    Keyring swapped;
    swapped.keys["alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub"] =
        core::read_file(alpine() / "keys/alpine-devel@lists.alpinelinux.org-616ae350.rsa.pub");
    EXPECT_THAT(refusal(musl(), swapped), HasSubstr("does not verify"));
}

TEST(AlpineSignature, AFileWithoutItsSignatureMemberFails) {
    DISTILL_REQUIRE_TESTDATA("alpine/MANIFEST.tsv");
    const auto file = musl();
    const auto members = test::apk::members_of(file);
    EXPECT_THAT(refusal(file.substr(members[0].size()), all_keys()), HasSubstr("not signed"));
    EXPECT_THAT(refusal("", all_keys()), HasSubstr("empty"));
    EXPECT_THAT(refusal("not gzip at all", all_keys()), HasSubstr("not valid gzip"));
    // The signature alone: nothing signed follows it.
    EXPECT_THAT(refusal(members[0], all_keys()), HasSubstr("nothing follows the signature"));
}

TEST(AlpineSignature, TheFirstSignatureByATrustedKeyDecidesAsInApk) {
    DISTILL_REQUIRE_TESTDATA("alpine/MANIFEST.tsv");
    const auto members = test::apk::members_of(musl());
    const auto& signed_member = members[1];
    const TestKey first;
    const TestKey second;
    Keyring keys;
    keys.keys["first.rsa.pub"] = first.pem();
    keys.keys["second.rsa.pub"] = second.pem();
    keys.source = "test-keys";
    const auto file = [&](std::vector<test::apk::TarEntry> entries) {
        return test::apk::gzip(test::apk::make_tar(entries, true)) + signed_member + members[2];
    };
    // A signature by a key nobody has is passed over; SHA-256 and SHA-512 signatures verify.
    const auto signer = verify_signed_file(
        file({{".SIGN.RSA.unknown.rsa.pub", std::string(256, 'x')},
              {".SIGN.RSA256.second.rsa.pub", second.sign(signed_member, EVP_sha256())}}),
        keys, "test.apk");
    EXPECT_EQ(signer.key_name, "second.rsa.pub");
    EXPECT_EQ(signer.algorithm, "RSA256");
    EXPECT_EQ(verify_signed_file(
                  file({{".SIGN.RSA512.first.rsa.pub", first.sign(signed_member, EVP_sha512())}}),
                  keys, "test.apk")
                  .algorithm,
              "RSA512");
    // apk verifies only the first signature whose key it has: a bad one is not saved by a
    // good one after it.
    EXPECT_THAT(
        refusal(file({{".SIGN.RSA.first.rsa.pub", second.sign(signed_member, EVP_sha1())},
                      {".SIGN.RSA.second.rsa.pub", second.sign(signed_member, EVP_sha1())}}),
                keys),
        HasSubstr("RSA signature by first.rsa.pub does not verify"));
    // A signature over SHA-1 named RSA256 does not verify either.
    EXPECT_THAT(
        refusal(file({{".SIGN.RSA256.first.rsa.pub", first.sign(signed_member, EVP_sha1())}}),
                keys),
        HasSubstr("does not verify"));
    // Anything but signatures in the signature member is refused.
    EXPECT_THAT(refusal(file({{".SIGN.RSA.first.rsa.pub", first.sign(signed_member, EVP_sha1())},
                              {".PKGINFO", "pkgname = x\n"}}),
                        keys),
                HasSubstr("`.PKGINFO`, not a .SIGN.* entry"));
}

TEST(AlpineSignature, KeyringsLoadFromAFileOrADirectory) {
    DISTILL_REQUIRE_TESTDATA("alpine/keys");
    const auto alpine_keys = load_keyring(alpine() / "keys");
    EXPECT_EQ(alpine_keys.keys.size(), 17U);
    EXPECT_EQ(alpine_keys.source, alpine() / "keys");
    const auto one = load_keyring(alpine() / "apko-testrepo/melange.rsa.pub");
    ASSERT_EQ(one.keys.size(), 1U);
    EXPECT_THAT(one.keys.at("melange.rsa.pub"), HasSubstr("BEGIN PUBLIC KEY"));
    const test::ScratchDir scratch;
    const auto missing = scratch.path() / "nothing-here";
    try {
        (void)load_keyring(missing);
        FAIL() << "a missing keyring was accepted";
    } catch (const Error& error) {
        EXPECT_THAT(error.what(), HasSubstr(missing.string()));
    }
    core::write_file_atomic(scratch.path() / "bogus.rsa.pub", "not a key\n");
    try {
        (void)load_keyring(scratch.path());
        FAIL() << "a file that is not a key was accepted";
    } catch (const Error& error) {
        EXPECT_THAT(error.what(), HasSubstr("bogus.rsa.pub"));
    }
    fs::remove(scratch.path() / "bogus.rsa.pub");
    core::write_file_atomic(scratch.path() / "README", "no keys here\n");
    EXPECT_THROW((void)load_keyring(scratch.path()), Error);
}

TEST(AlpineSignature, ApkChecksumIsQ1AndBase64OfTheSha1) {
    DISTILL_REQUIRE_TESTDATA("alpine/MANIFEST.tsv");
    const auto members = test::apk::members_of(musl());
    core::Hasher sha1(core::HashAlgorithm::sha1);
    sha1.update(members[1]);
    EXPECT_EQ(apk_checksum(sha1.raw_digest()), "Q1kqFQHSGzXGq3k7gQTqb+GxbmnOw=");
    EXPECT_EQ(test::apk::manifest_rows()
                  .at("v3.19/iso-repo/x86_64/musl-1.2.4_git20230717-r4.apk")
                  .at("C"),
              "Q1kqFQHSGzXGq3k7gQTqb+GxbmnOw=");
}

} // namespace
} // namespace distill::distro::alpine
