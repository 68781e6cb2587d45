#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <distill/assemble/certificates.hpp>
#include <distill/core/digest.hpp>
#include <distill/core/fs.hpp>
#include <distill/core/process.hpp>

#include "support.hpp"

namespace distill::assemble {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

constexpr std::int64_t k_epoch = 1700000000;
constexpr std::string_view k_host_bundle = "/etc/ssl/certs/ca-certificates.crt";

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

/// A throwaway self-signed CA certificate (EC P-256, fast to generate), as OpenSSL holds it.
X509Ptr make_certificate(const std::string& common_name, long serial) {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
    X509Ptr certificate(X509_new(), &X509_free);
    if (!key || !certificate) {
        throw std::runtime_error("OpenSSL allocation failed");
    }
    X509_set_version(certificate.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(certificate.get()), serial);
    X509_gmtime_adj(X509_getm_notBefore(certificate.get()), 0);
    X509_gmtime_adj(X509_getm_notAfter(certificate.get()), 365L * 24 * 3600);
    X509_set_pubkey(certificate.get(), key.get());
    X509_NAME* name = X509_get_subject_name(certificate.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                               0);
    X509_set_issuer_name(certificate.get(), name);
    if (X509_sign(certificate.get(), key.get(), EVP_sha256()) == 0) {
        throw std::runtime_error("X509_sign failed");
    }
    return certificate;
}

std::string der_of(X509* certificate) {
    unsigned char* buffer = nullptr;
    const int length = i2d_X509(certificate, &buffer);
    std::string der(reinterpret_cast<const char*>(buffer), static_cast<std::size_t>(length));
    OPENSSL_free(buffer);
    return der;
}

std::string pem_of(X509* certificate) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    PEM_write_bio_X509(bio.get(), certificate);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return {data, static_cast<std::size_t>(size)};
}

std::vector<std::string> ders(const std::vector<Certificate>& certificates) {
    std::vector<std::string> out;
    for (const auto& certificate : certificates) {
        out.push_back(certificate.der);
    }
    return out;
}

std::size_t count_lines(std::string_view text) {
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

/// Three certificates generated once for the whole suite (key generation is the slow part).
const std::vector<X509Ptr>& sample_x509() {
    static const auto samples = [] {
        std::vector<X509Ptr> made;
        made.push_back(make_certificate("distill test root A", 1));
        made.push_back(make_certificate("distill test root B", 2));
        made.push_back(make_certificate("distill test root C", 3));
        return made;
    }();
    return samples;
}

/// The sample certificates under names like those of Debian's ca-certificates.
std::vector<Certificate> samples() {
    const auto& x509 = sample_x509();
    return {{"mozilla/ISRG_Root_X1.crt", der_of(x509[0].get())},
            {"mozilla/DigiCert_Global_Root_G2.crt", der_of(x509[1].get())},
            {"local/Corporate Root.pem", der_of(x509[2].get())}};
}

// --- a reader for the tests, written from the format description, independent of the writer -

/// One entry of a parsed JKS file.
struct JksEntry {
    std::uint32_t tag = 0;
    std::string alias;
    std::uint64_t date = 0;
    std::string type;
    std::string der;
};

/// A parsed JKS file.
struct Jks {
    std::uint32_t magic = 0;
    std::uint32_t version = 0;
    std::vector<JksEntry> entries;
    std::string body;   ///< every byte before the digest
    std::string digest; ///< the trailing 20 bytes
};

class JksReader {
public:
    explicit JksReader(std::string_view bytes)
        : m_bytes(bytes) {}

    std::uint64_t number(std::size_t width) {
        if (m_pos + width > m_bytes.size()) {
            throw std::runtime_error("truncated keystore");
        }
        std::uint64_t value = 0;
        for (std::size_t i = 0; i < width; ++i) {
            value = (value << 8U) | static_cast<unsigned char>(m_bytes[m_pos++]);
        }
        return value;
    }
    std::string bytes(std::size_t length) {
        if (m_pos + length > m_bytes.size()) {
            throw std::runtime_error("truncated keystore");
        }
        std::string out(m_bytes.substr(m_pos, length));
        m_pos += length;
        return out;
    }
    std::string utf() { return bytes(static_cast<std::size_t>(number(2))); }
    [[nodiscard]] std::size_t pos() const { return m_pos; }

private:
    std::string_view m_bytes;
    std::size_t m_pos = 0;
};

Jks parse_jks(std::string_view bytes) {
    JksReader reader(bytes);
    Jks jks;
    jks.magic = static_cast<std::uint32_t>(reader.number(4));
    jks.version = static_cast<std::uint32_t>(reader.number(4));
    const auto count = reader.number(4);
    for (std::uint64_t i = 0; i < count; ++i) {
        JksEntry entry;
        entry.tag = static_cast<std::uint32_t>(reader.number(4));
        entry.alias = reader.utf();
        entry.date = reader.number(8);
        entry.type = reader.utf();
        entry.der = reader.bytes(static_cast<std::size_t>(reader.number(4)));
        jks.entries.push_back(std::move(entry));
    }
    jks.body = std::string(bytes.substr(0, reader.pos()));
    jks.digest = reader.bytes(20);
    if (reader.pos() != bytes.size()) {
        throw std::runtime_error("bytes after the digest");
    }
    return jks;
}

std::vector<std::string> aliases_of(const Jks& jks) {
    std::vector<std::string> aliases;
    for (const auto& entry : jks.entries) {
        aliases.push_back(entry.alias);
    }
    return aliases;
}

// --- PEM -------------------------------------------------------------------------------------

TEST(AssemblePem, ABundleWithCommentsGivesEveryCertificateInOrder) {
    const auto& x509 = sample_x509();
    const auto text = "# Bundle of test roots\n# second comment line\n" + pem_of(x509[0].get()) +
                      "\nNot a certificate: some words between blocks\n" + pem_of(x509[1].get()) +
                      pem_of(x509[2].get()) + "# trailing comment\n";
    const auto certificates = read_pem_certificates(text, "bundle.crt");
    ASSERT_EQ(certificates.size(), 3U);
    EXPECT_EQ(certificates[0].name, "bundle.crt");
    EXPECT_EQ(certificates[1].name, "bundle.crt#2");
    EXPECT_EQ(certificates[2].name, "bundle.crt#3");
    EXPECT_THAT(ders(certificates),
                ElementsAre(der_of(x509[0].get()), der_of(x509[1].get()), der_of(x509[2].get())));
}

TEST(AssemblePem, ASingleFileKeepsItsNameAndTextWithoutBlocksGivesNothing) {
    const auto certificates = read_pem_certificates(pem_of(sample_x509()[0].get()), "one.crt");
    ASSERT_EQ(certificates.size(), 1U);
    EXPECT_EQ(certificates[0].name, "one.crt");
    EXPECT_TRUE(read_pem_certificates("# nothing here\n", "empty.crt").empty());
}

TEST(AssemblePem, ACorruptBlockNamesOriginAndLine) {
    const auto& x509 = sample_x509();
    const auto first = "# comment\n" + pem_of(x509[0].get());
    auto second = pem_of(x509[1].get());
    // Damage the base64 in the middle of the second block.
    second.replace(second.size() / 2, 8, "!!!!!!!!");
    const auto line = count_lines(first) + 1;
    try {
        (void)read_pem_certificates(first + second, "bundle.crt");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr(fmt::format("bundle.crt:{}:", line)));
        EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
    }
}

TEST(AssemblePem, ABlockWithoutEndNamesOriginAndLine) {
    auto text = "\n\n" + pem_of(sample_x509()[0].get());
    text.erase(text.find("-----END"));
    try {
        (void)read_pem_certificates(text, "cut.crt");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("cut.crt:3:"));
    }
}

TEST(AssemblePem, TheBundleRoundTrips) {
    const auto certificates = samples();
    const auto bundle = pem_bundle(certificates);
    EXPECT_EQ(bundle, pem_of(sample_x509()[0].get()) + pem_of(sample_x509()[1].get()) +
                          pem_of(sample_x509()[2].get()));
    EXPECT_TRUE(bundle.ends_with("-----END CERTIFICATE-----\n"));
    std::size_t start = 0;
    for (auto end = bundle.find('\n'); end != std::string::npos; end = bundle.find('\n', start)) {
        EXPECT_LE(end - start, 64U) << "line too long: " << bundle.substr(start, end - start);
        start = end + 1;
    }
    const auto again = read_pem_certificates(bundle, "ca-certificates.crt");
    EXPECT_EQ(ders(again), ders(certificates));
}

TEST(AssemblePem, AnInvalidDerNamesTheCertificate) {
    try {
        (void)pem_bundle({{"mozilla/Broken.crt", "not DER"}});
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("mozilla/Broken.crt"));
    }
}

// --- JKS -------------------------------------------------------------------------------------

TEST(AssembleKeystore, TheSameCertificatesGiveTheSameBytesInAnyOrder) {
    auto certificates = samples();
    const auto reference = java_keystore(certificates, k_epoch);
    EXPECT_EQ(java_keystore(certificates, k_epoch), reference);
    std::reverse(certificates.begin(), certificates.end());
    EXPECT_EQ(java_keystore(certificates, k_epoch), reference);
    std::rotate(certificates.begin(), certificates.begin() + 1, certificates.end());
    EXPECT_EQ(java_keystore(certificates, k_epoch), reference);
    EXPECT_NE(java_keystore(certificates, k_epoch + 1), reference);
}

TEST(AssembleKeystore, HasTheJksStructureWithSortedAliases) {
    const auto certificates = samples();
    const auto jks = parse_jks(java_keystore(certificates, k_epoch));
    EXPECT_EQ(jks.magic, 0xFEEDFEEDU);
    EXPECT_EQ(jks.version, 2U);
    EXPECT_THAT(aliases_of(jks),
                ElementsAre("debian:corporate root.pem", "debian:digicert_global_root_g2.pem",
                            "debian:isrg_root_x1.pem"));
    for (const auto& entry : jks.entries) {
        EXPECT_EQ(entry.tag, 2U) << entry.alias;
        EXPECT_EQ(entry.date, static_cast<std::uint64_t>(k_epoch) * 1000U) << entry.alias;
        EXPECT_EQ(entry.type, "X.509") << entry.alias;
    }
    EXPECT_EQ(jks.entries[0].der, certificates[2].der);
    EXPECT_EQ(jks.entries[1].der, certificates[1].der);
    EXPECT_EQ(jks.entries[2].der, certificates[0].der);
}

TEST(AssembleKeystore, TheDigestIsTheSha1KeyedWithThePassword) {
    const auto certificates = samples();
    for (const std::string password : {"changeit", "s3cret"}) {
        const auto jks = parse_jks(java_keystore(certificates, k_epoch, password));
        core::Hasher sha1(core::HashAlgorithm::sha1);
        for (const char c : password) {
            // ASCII as UTF-16BE: a zero byte, then the character.
            sha1.update(std::string_view("\0", 1));
            sha1.update(std::string_view(&c, 1));
        }
        sha1.update("Mighty Aphrodite");
        sha1.update(jks.body);
        EXPECT_EQ(core::to_hex(jks.digest), sha1.hex_digest()) << password;
    }
    EXPECT_NE(java_keystore(certificates, k_epoch, "changeit"),
              java_keystore(certificates, k_epoch, "s3cret"));
}

TEST(AssembleKeystore, AliasesAreUniqueLowercaseAndIndependentOfOrder) {
    const auto base = samples();
    // Three certificates that all want "debian:a.pem", and one that owns "debian:a-2.pem".
    std::vector<Certificate> certificates = {{"x/A.crt", base[0].der},
                                             {"bundle.crt#2", base[1].der},
                                             {"y/a.pem", base[1].der},
                                             {"z/a-2.crt", base[2].der},
                                             {"w/a", base[2].der},
                                             {"bundle.crt", base[0].der},
                                             {"mozilla/T\xC3\x9C"
                                              "B\xC4\xB0TAK_\xCE\xA9.crt",
                                              base[0].der}};
    const auto reference = java_keystore(certificates, k_epoch);
    const auto aliases = aliases_of(parse_jks(reference));
    // Java lowercases aliases when it looks them up: a capital letter would hide the entry,
    // and a letter whose case is not known here becomes '_'.
    EXPECT_THAT(aliases, ElementsAre("debian:a-2.pem", "debian:a-3.pem", "debian:a-4.pem",
                                     "debian:a.pem", "debian:bundle-2.pem", "debian:bundle.pem",
                                     "debian:t\xC3\xBC"
                                     "bi\xCC\x87tak__.pem"));
    std::sort(certificates.begin(), certificates.end(),
              [](const Certificate& a, const Certificate& b) { return a.name > b.name; });
    EXPECT_EQ(java_keystore(certificates, k_epoch), reference);
}

TEST(AssembleKeystore, AnInvalidCertificateIsAnErrorNamingIt) {
    try {
        (void)java_keystore({{"mozilla/Broken.crt", "not DER"}}, k_epoch);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("mozilla/Broken.crt"));
    }
}

// --- the JDK as an independent reader --------------------------------------------------------

/// Runs the JDK's keytool; skipped where it is missing, except in CI.
class AssembleKeytool : public test::ScratchTest {
protected:
    void SetUp() override {
        if (!core::program_exists("keytool")) {
            if (test::in_ci()) {
                FAIL() << "keytool (the JDK) missing in CI";
            }
            GTEST_SKIP() << "keytool not found in PATH (install a JDK)";
        }
    }

    /// `keytool -list` of a keystore written to the scratch directory.
    core::ProcessResult list(const std::string& keystore, const std::string& password) const {
        const auto path = write("cacerts", keystore);
        // keytool translates its messages; the checks below read the English ones.
        return core::run_process({"keytool", "-J-Duser.language=en", "-J-Duser.country=US", "-list",
                                  "-keystore", path.string(), "-storepass", password});
    }

    /// The aliases keytool lists as trusted certificates.
    static std::vector<std::string> trusted_aliases(const std::string& listing) {
        std::vector<std::string> aliases;
        std::size_t start = 0;
        for (auto end = listing.find('\n'); end != std::string::npos;
             end = listing.find('\n', start)) {
            const auto line = listing.substr(start, end - start);
            start = end + 1;
            if (line.find(", trustedCertEntry") != std::string::npos) {
                aliases.push_back(line.substr(0, line.find(", ")));
            }
        }
        std::sort(aliases.begin(), aliases.end());
        return aliases;
    }
};

TEST_F(AssembleKeytool, ListsEveryAliasAsATrustedCertificate) {
    const auto keystore = java_keystore(samples(), k_epoch);
    const auto result = list(keystore, "changeit");
    ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
    EXPECT_THAT(result.out, HasSubstr("Keystore type: JKS"));
    EXPECT_THAT(result.out, HasSubstr("Your keystore contains 3 entries"));
    EXPECT_THAT(trusted_aliases(result.out), ElementsAreArray(aliases_of(parse_jks(keystore))));
}

TEST_F(AssembleKeytool, RefusesAWrongPassword) {
    const auto result = list(java_keystore(samples(), k_epoch), "wrong-password");
    EXPECT_NE(result.exit_code, 0) << result.out;
    EXPECT_THAT(result.out + result.err, HasSubstr("password was incorrect"));
}

TEST_F(AssembleKeytool, TheHostBundleBecomesAKeystoreOfTheSameSize) {
    const std::filesystem::path host(k_host_bundle);
    if (!std::filesystem::exists(host)) {
        if (test::in_ci()) {
            FAIL() << "missing in CI: " << host << " (install ca-certificates)";
        }
        GTEST_SKIP() << host << " not found (install ca-certificates)";
    }
    const auto certificates = read_pem_certificates(core::read_file(host), host.string());
    ASSERT_GT(certificates.size(), 100U);
    EXPECT_EQ(ders(read_pem_certificates(pem_bundle(certificates), "again")), ders(certificates));

    const auto keystore = java_keystore(certificates, k_epoch);
    const auto result = list(keystore, "changeit");
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_THAT(result.out,
                HasSubstr(fmt::format("Your keystore contains {} entries", certificates.size())));
    const auto aliases = trusted_aliases(result.out);
    EXPECT_EQ(aliases.size(), certificates.size());
    EXPECT_EQ(std::set<std::string>(aliases.begin(), aliases.end()).size(), aliases.size());
}

} // namespace
} // namespace distill::assemble
