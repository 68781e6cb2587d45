// The in-memory image tree: containment, merged /usr, conflicts, setuid, and the path policy
// applied to it.

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <distill/core/digest.hpp>
#include <distill/core/fs.hpp>
#include <distill/unpack/tree.hpp>

#include "support.hpp"

namespace distill::unpack {
namespace {

using ::testing::HasSubstr;

/// Builds an UnpackedPackage by hand, with a real content pack in the scratch directory.
class PackageBuilder {
public:
    PackageBuilder(std::filesystem::path pack)
        : m_pack(std::move(pack)) {
        m_package.pack = m_pack;
        m_package.control = "Package: test\n";
    }
    PackageBuilder& dir(const std::string& path, std::uint32_t mode = 0755) {
        return add(RawEntry{path, EntryType::directory, mode, 0, 0, {}, 0, 0, {}, {}});
    }
    PackageBuilder& file(const std::string& path, const std::string& content,
                         std::uint32_t mode = 0644) {
        RawEntry entry{path,           EntryType::file,           mode, 0, 0, {}, content.size(),
                       m_bytes.size(), core::sha256_hex(content), {}};
        m_bytes += content;
        return add(std::move(entry));
    }
    PackageBuilder& symlink(const std::string& path, const std::string& target) {
        return add(RawEntry{path, EntryType::symlink, 0777, 0, 0, target, 0, 0, {}, {}});
    }
    PackageBuilder& hardlink(const std::string& path, const std::string& target) {
        return add(RawEntry{path, EntryType::hardlink, 0644, 0, 0, target, 0, 0, {}, {}});
    }
    PackageBuilder& special(const std::string& path, EntryType type) {
        return add(RawEntry{path, type, 0644, 0, 0, {}, 0, 0, {}, {}});
    }
    const UnpackedPackage& done() {
        core::write_file_atomic(m_pack, m_bytes);
        m_package.unpacked_bytes = m_bytes.size();
        return m_package;
    }

private:
    PackageBuilder& add(RawEntry entry) {
        m_package.entries.push_back(std::move(entry));
        return *this;
    }
    std::filesystem::path m_pack;
    std::string m_bytes;
    UnpackedPackage m_package;
};

class UnpackTree : public test::ScratchTest {
protected:
    PackageBuilder package(const std::string& name) const {
        return PackageBuilder(scratch() / (name + ".pack"));
    }

    static Tree tree(manifest::Manifest manifest = {}) {
        return Tree(Tree::Options{true, PathPolicy::for_manifest(manifest)});
    }

    /// The message of the UnsafeContentError that adding `package` throws.
    static std::string unsafe(Tree& tree, const std::string& name, const UnpackedPackage& package) {
        try {
            tree.add_package(name, "amd64", package);
        } catch (const UnsafeContentError& e) {
            EXPECT_EQ(e.exit_code(), ExitCode::unsafe_content);
            return e.what();
        }
        ADD_FAILURE() << name << " was accepted";
        return {};
    }
};

TEST(TreeNormalise, PackagePathsAreRelativeAndStayInside) {
    EXPECT_EQ(Tree::normalise("./usr/bin/java", "p"), "usr/bin/java");
    EXPECT_EQ(Tree::normalise("usr//bin/./java", "p"), "usr/bin/java");
    EXPECT_EQ(Tree::normalise("./", "p"), "");
    EXPECT_EQ(Tree::normalise(".", "p"), "");
    EXPECT_THROW((void)Tree::normalise("/etc/passwd", "p"), UnsafeContentError);
    EXPECT_THROW((void)Tree::normalise("./usr/../../etc/passwd", "p"), UnsafeContentError);
    EXPECT_THROW((void)Tree::normalise("..", "p"), UnsafeContentError);
}

TEST_F(UnpackTree, MergedUsrMovesTopLevelDirectoriesAndLinksThem) {
    auto t = tree();
    t.add_package(
        "libc6", "amd64",
        package("libc6")
            .dir("./")
            .dir("./lib64/")
            .symlink("./lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")
            .dir("./usr/")
            .dir("./usr/lib/")
            .file("./usr/lib/libc.so.6", "ELF")
            .dir("./bin/")
            .file("./bin/true", "ELF true", 0755)
            .done());
    t.finish();
    EXPECT_EQ(t.find("usr/bin/true")->mode, 0755U);
    EXPECT_EQ(t.find("bin")->type, EntryType::symlink);
    EXPECT_EQ(t.find("bin")->link, "usr/bin");
    EXPECT_EQ(t.find("lib64")->link, "usr/lib64");
    EXPECT_EQ(t.find("lib")->link, "usr/lib");
    EXPECT_EQ(t.find("sbin"), nullptr); // no usr/sbin, no link to it
    EXPECT_EQ(t.find("usr/lib64/ld-linux-x86-64.so.2")->type, EntryType::symlink);
    EXPECT_EQ(t.read("usr/bin/true"), "ELF true");
    // The package database keeps the package's own names.
    const auto& paths = t.packages().at(0).paths;
    EXPECT_TRUE(std::any_of(paths.begin(), paths.end(), [](const ShippedPath& p) {
        return p.shipped == "bin/true" && p.path == "usr/bin/true";
    }));
}

TEST_F(UnpackTree, DotDotPathsAreRefused) {
    auto t = tree();
    const auto message = unsafe(
        t, "evil", package("evil").dir("./").file("./usr/../../etc/cron.d/x", "boom").done());
    EXPECT_THAT(message, HasSubstr("evil: `./usr/../../etc/cron.d/x` climbs out"));
}

TEST_F(UnpackTree, AbsolutePathsAreRefused) {
    auto t = tree();
    const auto message = unsafe(t, "evil", package("evil").file("/etc/passwd", "root::0:0").done());
    EXPECT_THAT(message, HasSubstr("evil: `/etc/passwd` is an absolute path"));
}

TEST_F(UnpackTree, PathsThroughASymlinkedParentAreRefused) {
    auto t = tree();
    t.add_package("a", "amd64", package("a").dir("./etc/").symlink("./etc/cron.d", "/tmp").done());
    const auto message =
        unsafe(t, "b", package("b").dir("./etc/").file("./etc/cron.d/job", "* * * * * x").done());
    EXPECT_THAT(message, HasSubstr("b: `/etc/cron.d/job` goes through `/etc/cron.d`, a symlink "
                                   "(to `/tmp`) from a"));
}

TEST_F(UnpackTree, HardLinksOutsideThePackageAreRefused) {
    auto t = tree();
    t.add_package("a", "amd64", package("a").dir("./etc/").file("./etc/shadow", "secret").done());
    const auto message =
        unsafe(t, "b", package("b").dir("./tmp/").hardlink("./tmp/x", "./etc/shadow").done());
    EXPECT_THAT(message, HasSubstr("b: hard link `/tmp/x` points at `./etc/shadow`, which is not "
                                   "an earlier file of this package"));
    auto u = tree();
    EXPECT_THAT(unsafe(u, "c", package("c").hardlink("./x", "../../etc/shadow").done()),
                HasSubstr("climbs out"));
}

TEST_F(UnpackTree, HardLinksWithinThePackageShareTheFile) {
    auto t = tree();
    t.add_package("a", "amd64",
                  package("a")
                      .dir("./usr/")
                      .dir("./usr/bin/")
                      .file("./usr/bin/a", "same bytes", 0755)
                      .hardlink("./usr/bin/b", "./usr/bin/a")
                      .done());
    const Entry* link = t.find("usr/bin/b");
    ASSERT_NE(link, nullptr);
    EXPECT_EQ(link->type, EntryType::hardlink);
    EXPECT_EQ(link->link, "usr/bin/a");
    EXPECT_EQ(t.read("usr/bin/b"), "same bytes");
}

TEST_F(UnpackTree, DeviceNodesAndFifosAreRefused) {
    for (const auto type :
         {EntryType::char_device, EntryType::block_device, EntryType::fifo, EntryType::socket}) {
        auto t = tree();
        const auto message =
            unsafe(t, "dev", package("dev").dir("./dev/").special("./dev/thing", type).done());
        EXPECT_THAT(message, HasSubstr(std::string("dev: `/dev/thing` is a ") + to_string(type)));
    }
}

TEST_F(UnpackTree, DifferentContentAtOnePathNamesBothPackages) {
    auto t = tree();
    t.add_package("a", "amd64", package("a").dir("./etc/").file("./etc/app.conf", "one").done());
    t.add_package("same", "amd64",
                  package("same").dir("./etc/").file("./etc/app.conf", "one").done());
    try {
        t.add_package("b", "amd64",
                      package("b").dir("./etc/").file("./etc/app.conf", "two").done());
        FAIL() << "a conflict was accepted";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("`/etc/app.conf` is shipped by both a ("));
        EXPECT_THAT(e.what(), HasSubstr(") and b ("));
    }
}

TEST_F(UnpackTree, SetuidBitsAreDroppedUnlessTheManifestAllowsThem) {
    manifest::Manifest manifest;
    manifest.paths.setuid = {{"/usr/bin/ping", {}}};
    auto t = tree(manifest);
    t.add_package("a", "amd64",
                  package("a")
                      .dir("./usr/")
                      .dir("./usr/bin/")
                      .file("./usr/bin/su", "su", 04755)
                      .file("./usr/bin/wall", "wall", 02755)
                      .file("./usr/bin/ping", "ping", 04755)
                      .dir("./tmp/", 01777)
                      .done());
    EXPECT_EQ(t.find("usr/bin/su")->mode, 0755U);
    EXPECT_EQ(t.find("usr/bin/wall")->mode, 0755U);
    EXPECT_EQ(t.find("usr/bin/ping")->mode, 04755U);
    EXPECT_EQ(t.find("tmp")->mode, 01777U);
    EXPECT_EQ(t.trimmed().setuid_cleared, 2U);
}

TEST_F(UnpackTree, PathPolicyDropsDocsAndEmptiedDirectories) {
    auto t = tree();
    t.add_package("a", "amd64",
                  package("a")
                      .dir("./usr/")
                      .dir("./usr/share/")
                      .dir("./usr/share/doc/")
                      .dir("./usr/share/doc/a/")
                      .file("./usr/share/doc/a/changelog.gz", "changes")
                      .file("./usr/share/doc/a/copyright", "licence")
                      .dir("./usr/share/man/")
                      .dir("./usr/share/man/man1/")
                      .file("./usr/share/man/man1/a.1.gz", "manual")
                      .done());
    t.finish();
    EXPECT_NE(t.find("usr/share/doc/a/copyright"), nullptr);
    EXPECT_EQ(t.find("usr/share/doc/a/changelog.gz"), nullptr);
    EXPECT_EQ(t.find("usr/share/man/man1"), nullptr);
    EXPECT_EQ(t.find("usr/share/man"), nullptr); // `**` matches no component too
    EXPECT_NE(t.find("usr/share/doc"), nullptr); // the copyright file keeps it
    EXPECT_EQ(t.trimmed().files, 2U);
    EXPECT_EQ(t.trimmed().bytes, 13U);
}

TEST_F(UnpackTree, GeneratedFilesReplaceAndRemoveKeepsSiblings) {
    auto t = tree();
    t.add_package("a", "amd64",
                  package("a")
                      .dir("./etc/")
                      .file("./etc/hosts", "package")
                      .dir("./etc/app/")
                      .file("./etc/app/x", "x")
                      .dir("./etc/app-extra/")
                      .file("./etc/app.conf", "c")
                      .done());
    t.put_file("etc/hosts", "generated");
    EXPECT_EQ(t.read("etc/hosts"), "generated");
    EXPECT_EQ(t.find("etc/hosts")->origin, k_generated);
    t.remove("etc/app");
    EXPECT_EQ(t.find("etc/app"), nullptr);
    EXPECT_EQ(t.find("etc/app/x"), nullptr);
    EXPECT_NE(t.find("etc/app-extra"), nullptr);
    EXPECT_NE(t.find("etc/app.conf"), nullptr);
    t.put_file("home/nonroot/.keep", "", 0644, 65532, 65532);
    EXPECT_EQ(t.find("home")->type, EntryType::directory);
}

} // namespace
} // namespace distill::unpack
