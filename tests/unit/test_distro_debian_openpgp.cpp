#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <distill/distro/debian/openpgp.hpp>

#include "support.hpp"

namespace distill::distro::debian {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class OpenPgp : public test::ScratchTest {
protected:
    void SetUp() override { DISTILL_REQUIRE_PROGRAM("gpgv", "gpgv"); }
    static std::filesystem::path debian125(const std::string& name) {
        return test::testdata_dir() / "deb/debian-bookworm-12.5" / name;
    }
};

TEST_F(OpenPgp, ThreeSignaturesVerifyWithTheOneKeyPresent) {
    DISTILL_REQUIRE_TESTDATA("deb/debian-bookworm-12.5/InRelease");
    // The armored key as Debian publishes it: dearmored on the fly for gpgv.
    const auto signed_text =
        verify_clearsigned(debian125("InRelease"), debian125("archive-key-12.asc"), "InRelease");
    EXPECT_THAT(signed_text.signers, ElementsAre("B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8"));
    EXPECT_THAT(signed_text.text, StartsWith("Origin: Debian\n"));
    EXPECT_THAT(signed_text.text, HasSubstr("Codename: bookworm"));
    EXPECT_EQ(signed_text.text.find("BEGIN PGP"), std::string::npos);
}

TEST_F(OpenPgp, ATamperedMessageHasABadSignature) {
    DISTILL_REQUIRE_TESTDATA("deb/debian-bookworm-12.5/InRelease");
    auto content = core::read_file(debian125("InRelease"));
    content.replace(content.find("Version: 12.5"), 13, "Version: 12.9");
    const auto tampered = write("InRelease", content);
    try {
        (void)verify_clearsigned(tampered, debian125("archive-key-12.asc"), "http://x/InRelease");
        FAIL() << "no error";
    } catch (const VerificationError& e) {
        EXPECT_THAT(e.what(), HasSubstr("http://x/InRelease: BAD signature"));
        EXPECT_EQ(e.exit_code(), ExitCode::verification);
    }
}

TEST_F(OpenPgp, TextOutsideTheSignedMessageIsRefused) {
    DISTILL_REQUIRE_TESTDATA("deb/debian-bookworm-12.5/InRelease");
    const auto appended =
        write("InRelease", core::read_file(debian125("InRelease")) + "\nSHA256:\n evil\n");
    EXPECT_THROW((void)verify_clearsigned(appended, debian125("archive-key-12.asc"), "x"),
                 VerificationError);
    const auto prepended =
        write("InRelease2", "Suite: evil\n" + core::read_file(debian125("InRelease")));
    EXPECT_THROW((void)verify_clearsigned(prepended, debian125("archive-key-12.asc"), "x"),
                 VerificationError);
}

TEST_F(OpenPgp, AKeyringWithoutTheSigningKeysIsRefused) {
    DISTILL_REQUIRE_TESTDATA("deb/mopidy-repo/mopidy-archive-keyring.gpg");
    try {
        (void)verify_clearsigned(
            debian125("InRelease"),
            test::testdata_dir() / "deb/mopidy-repo/mopidy-archive-keyring.gpg", "InRelease");
        FAIL() << "no error";
    } catch (const VerificationError& e) {
        EXPECT_THAT(e.what(), HasSubstr("which keyring"));
        EXPECT_THAT(e.what(), HasSubstr("does not hold"));
    }
}

TEST_F(OpenPgp, MissingKeyringIsNamed) {
    DISTILL_REQUIRE_TESTDATA("deb/debian-bookworm-12.5/InRelease");
    try {
        (void)verify_clearsigned(debian125("InRelease"), scratch() / "nope.gpg", "InRelease");
        FAIL() << "no error";
    } catch (const VerificationError& e) {
        EXPECT_THAT(e.what(), HasSubstr("nope.gpg does not exist"));
    }
}

TEST_F(OpenPgp, DearmorGivesTheBinaryKey) {
    DISTILL_REQUIRE_TESTDATA("deb/debian-bookworm-12.5/archive-key-12.asc");
    const auto armored = core::read_file(debian125("archive-key-12.asc"));
    const auto binary = dearmor_keyring(armored, "key");
    ASSERT_GT(binary.size(), 100U);
    // An OpenPGP public-key packet: new or old format tag 6.
    const auto tag = static_cast<unsigned char>(binary[0]);
    EXPECT_TRUE(tag == 0x99 || tag == 0xC6) << static_cast<int>(tag);
    EXPECT_EQ(dearmor_keyring(binary, "key"), binary);
}

} // namespace
} // namespace distill::distro::debian
