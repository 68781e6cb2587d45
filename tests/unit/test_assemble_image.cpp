// What maintainer scripts would have done, done on the tree: accounts, system files, JVM
// alternatives and the package database.

#include <string>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <distill/assemble/assemble.hpp>
#include <distill/core/digest.hpp>
#include <distill/core/fs.hpp>
#include <distill/distro/debian/debian.hpp>
#include <distill/distro/debian/dpkg_database.hpp>
#include <distill/manifest/manifest.hpp>

#include "support.hpp"

namespace distill::assemble {
namespace {

using distro::debian::add_alternatives;
using distro::debian::write_package_database;
using ::testing::HasSubstr;
using unpack::EntryType;

class AssembleImage : public test::ScratchTest {
protected:
    unpack::UnpackedPackage package(const std::string& name, const std::string& control_extra,
                                    std::vector<std::pair<std::string, std::string>> files) {
        unpack::UnpackedPackage out;
        out.control = fmt::format("Package: {}\nVersion: 1.0-1\nArchitecture: amd64\n{}"
                                  "Description: test package\n more text\n",
                                  name, control_extra);
        std::string bytes;
        out.entries.push_back({"./", EntryType::directory, 0755, 0, 0, {}, 0, 0, {}, {}});
        for (const auto& [path, content] : files) {
            if (path.ends_with("/")) {
                out.entries.push_back({path, EntryType::directory, 0755, 0, 0, {}, 0, 0, {}, {}});
                continue;
            }
            core::Hasher md5(core::HashAlgorithm::md5);
            md5.update(content);
            out.entries.push_back({path,
                                   EntryType::file,
                                   0755,
                                   0,
                                   0,
                                   {},
                                   content.size(),
                                   bytes.size(),
                                   core::sha256_hex(content),
                                   md5.hex_digest()});
            bytes += content;
        }
        out.pack = write(name + ".pack", bytes);
        out.unpacked_bytes = bytes.size();
        return out;
    }

    static unpack::Tree tree() {
        manifest::Manifest manifest;
        return unpack::Tree(
            unpack::Tree::Options{true, unpack::PathPolicy::for_manifest(manifest)});
    }

    static manifest::Manifest manifest_with(const std::string& user = {}) {
        manifest::Manifest manifest;
        manifest.name = "test";
        manifest.release = "bookworm";
        manifest.config.user = user;
        return manifest::with_defaults(manifest);
    }
};

TEST_F(AssembleImage, AccountsHomesAndTheConfigUser) {
    auto manifest = manifest_with("app");
    manifest::Account app;
    app.name = "app";
    app.uid = 1000;
    manifest.accounts.push_back(app);
    manifest = manifest::with_defaults(manifest);
    auto t = tree();
    core::NullReporter reporter;
    const auto summary = assemble(t, manifest, 0, reporter);
    EXPECT_EQ(t.read("etc/passwd"), "root:x:0:0:root:/root:/sbin/nologin\n"
                                    "app:x:1000:1000:app:/home/app:/sbin/nologin\n"
                                    "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
                                    "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n");
    EXPECT_THAT(t.read("etc/group"), HasSubstr("nonroot:x:65532:\n"));
    EXPECT_EQ(t.find("home/nonroot")->uid, 65532U);
    EXPECT_EQ(t.find("home/nonroot")->mode, 0700U);
    EXPECT_EQ(t.find("root")->mode, 0700U);
    EXPECT_EQ(t.find("nonexistent"), nullptr);
    EXPECT_EQ(t.find("tmp")->mode, 01777U);
    EXPECT_THAT(t.read("etc/nsswitch.conf"), HasSubstr("hosts:          files dns"));
    EXPECT_THAT(t.read("etc/os-release"), HasSubstr("VERSION_CODENAME=bookworm"));
    EXPECT_EQ(resolve_user(manifest), "1000:1000");
    EXPECT_EQ(resolve_user(manifest_with()), "65532:65532");
    EXPECT_EQ(resolve_user(manifest_with("123:456")), "123:456");
    EXPECT_EQ(summary.accounts.size(), 4U);
}

TEST_F(AssembleImage, JvmToolsAreLinkedAsUpdateAlternativesWould) {
    auto t = tree();
    const auto jre = package("openjdk-17-jre-headless", "",
                             {{"./usr/", ""},
                              {"./usr/lib/", ""},
                              {"./usr/lib/jvm/", ""},
                              {"./usr/lib/jvm/java-17-openjdk-amd64/", ""},
                              {"./usr/lib/jvm/java-17-openjdk-amd64/bin/", ""},
                              {"./usr/lib/jvm/java-17-openjdk-amd64/bin/java", "ELF java"},
                              {"./usr/lib/jvm/java-17-openjdk-amd64/bin/keytool", "ELF keytool"}});
    t.add_package("openjdk-17-jre-headless", "amd64", jre);
    const auto made = add_alternatives(t);
    EXPECT_EQ(made.size(), 2U);
    EXPECT_EQ(t.find("usr/bin/java")->link, "/etc/alternatives/java");
    EXPECT_EQ(t.find("etc/alternatives/java")->link, "/usr/lib/jvm/java-17-openjdk-amd64/bin/java");
    EXPECT_EQ(t.find("usr/bin/keytool")->type, EntryType::symlink);
}

TEST_F(AssembleImage, PackageDatabaseListsExactlyWhatIsPresent) {
    auto t = tree();
    const auto libc = package("libc6", "Multi-Arch: same\n",
                              {{"./usr/", ""},
                               {"./usr/lib/", ""},
                               {"./usr/lib/libc.so.6", "ELF libc"},
                               {"./usr/share/", ""},
                               {"./usr/share/doc/", ""},
                               {"./usr/share/doc/libc6/", ""},
                               {"./usr/share/doc/libc6/copyright", "GPL"},
                               {"./usr/share/doc/libc6/changelog.gz", "changes"}});
    auto tools = package("tools", "",
                         {{"./bin/", ""},
                          {"./bin/tool", "ELF tool"},
                          {"./etc/", ""},
                          {"./etc/tool.conf", "setting=1\n"}});
    tools.conffiles = "/etc/tool.conf\n";
    t.add_package("libc6", "amd64", libc);
    t.add_package("tools", "amd64", tools);
    t.finish();
    EXPECT_EQ(write_package_database(t), 2U);
    const auto status = t.read("var/lib/dpkg/status");
    EXPECT_THAT(status,
                HasSubstr("Package: libc6\nStatus: install ok installed\nVersion: 1.0-1\n"));
    EXPECT_THAT(status, HasSubstr("Conffiles:\n /etc/tool.conf " + t.find("etc/tool.conf")->md5 +
                                  "\nDescription: test package\n"));
    // The documentation the path policy dropped is not listed; the copyright is.
    const auto list = t.read("var/lib/dpkg/info/libc6:amd64.list");
    EXPECT_THAT(list, HasSubstr("/usr/share/doc/libc6/copyright\n"));
    EXPECT_THAT(list, ::testing::Not(HasSubstr("changelog")));
    EXPECT_THAT(t.read("var/lib/dpkg/info/libc6:amd64.md5sums"),
                HasSubstr("  usr/lib/libc.so.6\n"));
    // Paths are listed as the package names them, as dpkg does on merged-/usr systems.
    EXPECT_EQ(t.read("var/lib/dpkg/info/tools.list"),
              "/.\n/bin\n/bin/tool\n/etc\n/etc/tool.conf\n");
}

} // namespace
} // namespace distill::assemble
