#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <distill/assemble/assemble.hpp>
#include <distill/assemble/certificates.hpp>
#include <distill/core/digest.hpp>
#include <distill/core/fs.hpp>
#include <distill/core/process.hpp>
#include <distill/core/reporter.hpp>
#include <distill/manifest/manifest.hpp>
#include <distill/unpack/tree.hpp>

#include "apk_support.hpp"
#include "support.hpp"

namespace distill::assemble {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

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

/// Three certificates with one subject (so one subject hash) and different keys.
const std::vector<X509Ptr>& same_subject_x509() {
    static const auto samples = [] {
        std::vector<X509Ptr> made;
        for (long serial = 1; serial <= 3; ++serial) {
            made.push_back(make_certificate("distill test colliding root", serial));
        }
        return made;
    }();
    return samples;
}

/// The subject hash as OpenSSL names its links: eight lowercase hex digits.
std::string hash_name(X509* certificate) {
    return fmt::format("{:08x}", subject_hash({"sample", der_of(certificate)}));
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

// --- /etc/ssl/certs -------------------------------------------------------------------------

TEST(AssembleCertificateDirectory, LinkNamesAreThoseOfUpdateCaCertificates) {
    EXPECT_EQ(certificate_link_name("/usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt"),
              "ISRG_Root_X1.pem");
    EXPECT_EQ(certificate_link_name("usr/local/share/ca-certificates/Corp Root (2024), EU.crt"),
              "Corp_Root_=2024=__EU.pem");
    // Only a .crt suffix goes, and only when something is left.
    EXPECT_EQ(certificate_link_name("/x/ca.pem"), "ca.pem.pem");
    EXPECT_EQ(certificate_link_name("/x/.crt"), ".crt.pem");
}

TEST(AssembleCertificateDirectory, CollisionsAreNumberedInNameOrderAndEachCertificateLinkedOnce) {
    const auto& same = same_subject_x509();
    const auto& other = sample_x509();
    const auto hash = hash_name(same[0].get());
    ASSERT_EQ(hash_name(same[1].get()), hash);
    ASSERT_EQ(hash_name(same[2].get()), hash);
    const std::vector<CertificateFile> files = {
        {"/usr/share/ca-certificates/x/c.crt", {{"c", der_of(same[0].get())}}},
        {"/usr/share/ca-certificates/x/a.crt", {{"a", der_of(same[1].get())}}},
        {"/usr/local/share/ca-certificates/b.crt", {{"b", der_of(same[2].get())}}},
        // The same certificate as a.crt: linked by name, but rehash skips the duplicate.
        {"/usr/local/share/ca-certificates/d.crt", {{"d", der_of(same[1].get())}}},
        // Two certificates in one file: rehash skips it.
        {"/usr/share/ca-certificates/x/pair.crt",
         {{"p1", der_of(other[1].get())}, {"p2", der_of(other[2].get())}}},
        // A later file with the name of an earlier one takes its link, as `ln -sf` does.
        {"/usr/local/share/ca-certificates/c.crt", {{"c2", der_of(other[0].get())}}},
    };
    const auto links = certificate_directory(files);
    EXPECT_THAT(links,
                UnorderedElementsAre(Link{"a.pem", "/usr/share/ca-certificates/x/a.crt"},
                                     Link{"b.pem", "/usr/local/share/ca-certificates/b.crt"},
                                     Link{"c.pem", "/usr/local/share/ca-certificates/c.crt"},
                                     Link{"d.pem", "/usr/local/share/ca-certificates/d.crt"},
                                     Link{"pair.pem", "/usr/share/ca-certificates/x/pair.crt"},
                                     Link{hash + ".0", "a.pem"}, Link{hash + ".1", "b.pem"},
                                     Link{hash_name(other[0].get()) + ".0", "c.pem"}));
    EXPECT_TRUE(std::is_sorted(links.begin(), links.end(),
                               [](const Link& a, const Link& b) { return a.name < b.name; }));
    auto reversed = files;
    std::reverse(reversed.begin(), reversed.end());
    // Only the overwritten link depends on the order of the files.
    auto again = certificate_directory(reversed);
    EXPECT_THAT(again, ::testing::Contains(Link{"c.pem", "/usr/share/ca-certificates/x/c.crt"}));
    EXPECT_THAT(again, ::testing::Contains(Link{hash + ".2", "c.pem"}));
}

TEST(AssembleCertificateDirectory, AnInvalidCertificateNamesIt) {
    try {
        (void)certificate_directory({{"/x/broken.crt", {{"x/broken.crt", "not DER"}}}});
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("x/broken.crt"));
    }
}

// --- the openssl command line tool as an independent reference --------------------------------

/// Runs the openssl program; skipped where it is missing, except in CI.
class AssembleRehash : public test::ScratchTest {
protected:
    void SetUp() override { DISTILL_REQUIRE_PROGRAM("openssl", "openssl"); }

    /// Files of one certificate each in the scratch directory, named `names`.
    std::vector<CertificateFile> scratch_files(const std::vector<X509*>& certificates,
                                               const std::vector<std::string>& names) const {
        std::vector<CertificateFile> files;
        for (std::size_t i = 0; i < certificates.size(); ++i) {
            const auto path = write("src/" + names[i], pem_of(certificates[i]));
            files.push_back({path.string(), {{names[i], der_of(certificates[i])}}});
        }
        return files;
    }

    /// Makes the name links of certificate_directory() in a fresh directory, runs
    /// `openssl rehash` on it and returns the hash links it made, sorted.
    std::vector<Link> rehashed(const std::vector<Link>& links, const std::string& directory) const {
        const auto dir = scratch() / directory;
        std::filesystem::create_directories(dir);
        for (const auto& link : links) {
            if (link.name.ends_with(".pem")) {
                std::filesystem::create_symlink(link.target, dir / link.name);
            }
        }
        const auto result = core::run_process({"openssl", "rehash", dir.string()});
        EXPECT_EQ(result.exit_code, 0) << result.err;
        std::vector<Link> made;
        for (const auto& entry : std::filesystem::directory_iterator(dir)) {
            const auto name = entry.path().filename().string();
            if (!name.ends_with(".pem")) {
                made.push_back({name, std::filesystem::read_symlink(entry.path()).string()});
            }
        }
        std::sort(made.begin(), made.end(),
                  [](const Link& a, const Link& b) { return a.name < b.name; });
        return made;
    }

    static std::vector<Link> hash_links(const std::vector<Link>& links) {
        std::vector<Link> out;
        std::copy_if(links.begin(), links.end(), std::back_inserter(out),
                     [](const Link& link) { return !link.name.ends_with(".pem"); });
        return out;
    }
};

TEST_F(AssembleRehash, TheSubjectHashIsTheOneOpensslPrints) {
    std::vector<X509*> all;
    for (const auto& x509 : sample_x509()) {
        all.push_back(x509.get());
    }
    all.push_back(same_subject_x509()[0].get());
    for (std::size_t i = 0; i < all.size(); ++i) {
        const auto path = write(fmt::format("cert{}.pem", i), pem_of(all[i]));
        const auto result =
            core::run_process({"openssl", "x509", "-noout", "-subject_hash", "-in", path.string()});
        ASSERT_EQ(result.exit_code, 0) << result.err;
        EXPECT_EQ(result.out, hash_name(all[i]) + "\n");
    }
}

TEST_F(AssembleRehash, CollisionsAndDuplicatesAreLinkedAsOpensslRehashLinksThem) {
    const auto& same = same_subject_x509();
    const auto& other = sample_x509();
    // Names out of order, a duplicate of the first, and a certificate of another subject.
    const auto files =
        scratch_files({same[0].get(), same[1].get(), same[2].get(), same[0].get(), other[0].get()},
                      {"zeta.crt", "alpha.crt", "Mid.crt", "beta.crt", "other.crt"});
    const auto links = certificate_directory(files);
    const auto expected = hash_links(links);
    const auto hash = hash_name(same[0].get());
    EXPECT_THAT(expected, ::testing::IsSupersetOf({Link{hash + ".0", "Mid.pem"},
                                                   Link{hash + ".1", "alpha.pem"},
                                                   Link{hash + ".2", "beta.pem"}}));
    EXPECT_EQ(expected.size(), 4U); // zeta.pem is beta.pem's certificate again
    EXPECT_EQ(rehashed(links, "certs"), expected);
}

TEST_F(AssembleRehash, DebiansCertificatesGetTheLinksOpensslRehashMakes) {
    const std::filesystem::path debian("/usr/share/ca-certificates");
    std::vector<std::filesystem::path> paths;
    if (std::filesystem::is_directory(debian)) {
        for (const auto& entry : std::filesystem::recursive_directory_iterator(debian)) {
            if (entry.is_regular_file() && entry.path().extension() == ".crt") {
                paths.push_back(entry.path());
            }
        }
    }
    if (paths.empty()) {
        DISTILL_SKIP_OR_FAIL(debian << " holds no certificates (install ca-certificates)");
    }
    std::sort(paths.begin(), paths.end());
    std::vector<CertificateFile> files;
    for (const auto& path : paths) {
        files.push_back(
            {path.string(), read_pem_certificates(core::read_file(path),
                                                  path.lexically_relative(debian).string())});
    }
    const auto links = certificate_directory(files);
    const auto expected = hash_links(links);
    EXPECT_EQ(links.size() - expected.size(), files.size());
    EXPECT_GT(expected.size(), 100U);
    EXPECT_EQ(rehashed(links, "certs"), expected);
    const auto collisions = std::count_if(expected.begin(), expected.end(), [](const Link& link) {
        return !link.name.ends_with(".0");
    });
    std::cout << files.size() << " certificate files, " << expected.size() << " hash links, "
              << collisions << " of them numbered beyond .0\n";
}

// --- in the image ----------------------------------------------------------------------------

class AssembleCertificateTree : public test::ScratchTest {
protected:
    static unpack::Tree tree() {
        manifest::Manifest manifest;
        return unpack::Tree(
            unpack::Tree::Options{true, unpack::PathPolicy::for_manifest(manifest)});
    }

    static manifest::Manifest manifest_with(std::vector<std::filesystem::path> certificates) {
        manifest::Manifest manifest;
        manifest.name = "test";
        manifest.release = "bookworm";
        for (const auto& path : certificates) {
            manifest.certificates.push_back({path.string(), {}});
        }
        return manifest::with_defaults(manifest);
    }

    static std::string link_of(const unpack::Tree& tree, const std::string& path) {
        const auto* entry = tree.find(path);
        if (entry == nullptr || entry->type != unpack::EntryType::symlink) {
            return "(no link)";
        }
        return entry->link;
    }
};

TEST_F(AssembleCertificateTree, DebianAndManifestCertificatesAreFilesLinksAndHashLinks) {
    const auto& same = same_subject_x509();
    const auto& other = sample_x509();
    auto t = tree();
    // As Debian's ca-certificates ships them: one certificate a file.
    t.put_file("usr/share/ca-certificates/mozilla/Same_A.crt", pem_of(same[0].get()), 0644, 0, 0,
               "ca-certificates");
    t.put_file("usr/share/ca-certificates/mozilla/Same_B.crt", pem_of(same[1].get()), 0644, 0, 0,
               "ca-certificates");
    t.put_file("usr/share/ca-certificates/mozilla/Corp.crt", pem_of(other[0].get()), 0644, 0, 0,
               "ca-certificates");
    // The manifest's file is named like a Debian certificate and holds two certificates, one of
    // them a Debian certificate again.
    const auto extra = write("certs/Corp.pem", pem_of(other[1].get()) + pem_of(same[1].get()));
    const auto manifest = manifest_with({extra});
    core::NullReporter reporter;
    const auto summary = assemble(t, manifest, k_epoch, reporter);

    EXPECT_EQ(summary.ca_certificates, 5U);
    EXPECT_EQ(read_pem_certificates(t.read("etc/ssl/certs/ca-certificates.crt"), "bundle").size(),
              5U);
    // The extras are Debian's local certificates, one a file, named so no link is lost.
    EXPECT_EQ(t.find("usr/local/share/ca-certificates/Corp.crt"), nullptr);
    EXPECT_EQ(t.read("usr/local/share/ca-certificates/Corp-2.crt"), pem_of(other[1].get()));
    EXPECT_EQ(t.read("usr/local/share/ca-certificates/Corp-3.crt"), pem_of(same[1].get()));
    EXPECT_EQ(t.find("usr/local/share/ca-certificates/Corp-2.crt")->origin,
              unpack::k_manifest_files);
    EXPECT_EQ(t.find("usr/local/share/ca-certificates/Corp-2.crt")->mode, 0644U);

    EXPECT_EQ(link_of(t, "etc/ssl/certs/Same_A.pem"),
              "/usr/share/ca-certificates/mozilla/Same_A.crt");
    EXPECT_EQ(link_of(t, "etc/ssl/certs/Corp.pem"), "/usr/share/ca-certificates/mozilla/Corp.crt");
    EXPECT_EQ(link_of(t, "etc/ssl/certs/Corp-2.pem"),
              "/usr/local/share/ca-certificates/Corp-2.crt");
    EXPECT_EQ(link_of(t, "etc/ssl/certs/Corp-3.pem"),
              "/usr/local/share/ca-certificates/Corp-3.crt");
    // By name: Corp-3.pem comes first and links Same_B's certificate, which Same_B.pem then
    // holds again.
    const auto hash = hash_name(same[0].get());
    EXPECT_EQ(link_of(t, "etc/ssl/certs/" + hash + ".0"), "Corp-3.pem");
    EXPECT_EQ(link_of(t, "etc/ssl/certs/" + hash + ".1"), "Same_A.pem");
    EXPECT_EQ(t.find("etc/ssl/certs/" + hash + ".2"), nullptr);
    EXPECT_EQ(link_of(t, "etc/ssl/certs/" + hash_name(other[0].get()) + ".0"), "Corp.pem");
    EXPECT_EQ(link_of(t, "etc/ssl/certs/" + hash_name(other[1].get()) + ".0"), "Corp-2.pem");
    EXPECT_EQ(summary.certificate_links, 5U);
    EXPECT_EQ(summary.hash_links, 4U);

    // OpenSSL's built-in defaults (OPENSSLDIR /usr/lib/ssl) lead to them.
    EXPECT_EQ(link_of(t, "usr/lib/ssl/certs"), "/etc/ssl/certs");
    EXPECT_EQ(link_of(t, "usr/lib/ssl/cert.pem"), "/etc/ssl/certs/ca-certificates.crt");
    EXPECT_EQ(t.find("usr/lib/ssl/openssl.cnf"), nullptr);

    // The same input gives the same entries.
    auto again = tree();
    for (const auto* name : {"Same_A", "Same_B", "Corp"}) {
        const auto path = fmt::format("usr/share/ca-certificates/mozilla/{}.crt", name);
        again.put_file(path, t.read(path), 0644, 0, 0, "ca-certificates");
    }
    (void)assemble(again, manifest, k_epoch, reporter);
    ASSERT_EQ(again.entries().size(), t.entries().size());
    for (const auto& [path, entry] : t.entries()) {
        const auto* twin = again.find(path);
        ASSERT_NE(twin, nullptr) << path;
        EXPECT_EQ(std::tie(twin->type, twin->link, twin->sha256, twin->mode),
                  std::tie(entry.type, entry.link, entry.sha256, entry.mode))
            << path;
    }
}

TEST_F(AssembleCertificateTree, AlpinesShippedBundleFeedsTheJavaTruststoreAndTakesTheManifests) {
    // Alpine's ca-certificates-bundle ships /etc/ssl/certs/ca-certificates.crt itself, and its
    // JRE links lib/security/cacerts to /etc/ssl/certs/java/cacerts, which java-cacerts' hook
    // would have made.
    const auto& same = same_subject_x509();
    const auto& other = sample_x509();
    const auto shipped = pem_of(same[0].get()) + pem_of(same[1].get());
    const auto alpine_tree = [&] {
        auto t = tree();
        t.put_file("etc/ssl/certs/ca-certificates.crt", shipped, 0644, 0, 0,
                   "ca-certificates-bundle");
        t.put_symlink("usr/lib/jvm/java-17-openjdk/lib/security/cacerts",
                      "/etc/ssl/certs/java/cacerts", "openjdk17-jre-headless");
        return t;
    };
    const auto key = write("keys/test.rsa.pub", test::apk::TestKey().pem());
    const auto alpine_manifest = [&](std::vector<std::filesystem::path> certificates) {
        auto manifest = manifest_with(std::move(certificates));
        manifest.distro = manifest::Distro::alpine;
        manifest.release = "v3.19";
        manifest::Source source;
        source.url = "https://mirror.example.org/alpine";
        source.keyring = key;
        manifest.sources = {source};
        return manifest::with_defaults(manifest);
    };
    core::NullReporter reporter;

    // Without certificates of the manifest's, the package's bundle stays as it is, and the
    // truststore holds its certificates.
    auto t = alpine_tree();
    auto summary = assemble(t, alpine_manifest({}), k_epoch, reporter);
    EXPECT_EQ(t.read("etc/ssl/certs/ca-certificates.crt"), shipped);
    EXPECT_EQ(t.find("etc/ssl/certs/ca-certificates.crt")->origin, "ca-certificates-bundle");
    EXPECT_TRUE(summary.java_truststore);
    EXPECT_EQ(parse_jks(t.read("etc/ssl/certs/java/cacerts")).entries.size(), 2U);
    // Alpine's OpenSSL looks in /etc/ssl itself.
    EXPECT_EQ(t.find("usr/lib/ssl"), nullptr);

    // The manifest's certificate joins the bundle and the truststore.
    const auto extra = write("certs/corp.pem", pem_of(other[0].get()));
    t = alpine_tree();
    summary = assemble(t, alpine_manifest({extra}), k_epoch, reporter);
    EXPECT_EQ(read_pem_certificates(t.read("etc/ssl/certs/ca-certificates.crt"), "bundle").size(),
              3U);
    EXPECT_EQ(parse_jks(t.read("etc/ssl/certs/java/cacerts")).entries.size(), 3U);
    EXPECT_EQ(t.read("usr/local/share/ca-certificates/corp.crt"), pem_of(other[0].get()));
}

TEST_F(AssembleCertificateTree, WithoutCertificatesNothingIsLinked) {
    auto t = tree();
    core::NullReporter reporter;
    const auto summary = assemble(t, manifest_with({}), k_epoch, reporter);
    EXPECT_EQ(summary.ca_certificates, 0U);
    EXPECT_EQ(summary.hash_links, 0U);
    EXPECT_EQ(t.find("etc/ssl/certs"), nullptr);
    EXPECT_EQ(t.find("usr/lib/ssl"), nullptr);
    EXPECT_EQ(t.find("usr/local/share/ca-certificates"), nullptr);
}

TEST_F(AssembleCertificateTree, AManifestFileWithoutACertificateIsAnError) {
    const auto empty = write("certs/empty.pem", "# nothing\n");
    auto t = tree();
    core::NullReporter reporter;
    try {
        (void)assemble(t, manifest_with({empty}), k_epoch, reporter);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr(empty.string()));
        EXPECT_THAT(e.what(), HasSubstr("no PEM certificate"));
    }
}

// --- the JDK as an independent reader --------------------------------------------------------

/// Runs the JDK's keytool; skipped where it is missing, except in CI.
class AssembleKeytool : public test::ScratchTest {
protected:
    void SetUp() override { DISTILL_REQUIRE_PROGRAM("keytool", "a JDK"); }

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
        DISTILL_SKIP_OR_FAIL(host << " not found (install ca-certificates)");
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
