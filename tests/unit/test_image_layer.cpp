// The layer: a tar that other readers see as intended (sorted, numeric owners, one epoch,
// digests that match the bytes), the same for any number of jobs.

#include <string>
#include <vector>

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <distill/core/digest.hpp>
#include <distill/core/fs.hpp>
#include <distill/image/compress.hpp>
#include <distill/image/layer.hpp>

#include "support.hpp"

namespace distill::image {
namespace {

namespace fs = std::filesystem;
using test::decompress;
using test::sample;
using ::testing::HasSubstr;

class ImageLayer : public test::ScratchTest {
protected:
    struct ReadEntry {
        std::string path;
        unsigned type;
        unsigned mode;
        std::int64_t uid;
        std::int64_t mtime;
        std::string uname;
        std::string link;
        std::string hardlink;
        std::string data;
    };

    static std::vector<ReadEntry> read_tar(const std::string& tar) {
        std::unique_ptr<archive, decltype(&archive_read_free)> reader(archive_read_new(),
                                                                      &archive_read_free);
        archive_read_support_format_tar(reader.get());
        EXPECT_EQ(archive_read_open_memory(reader.get(), tar.data(), tar.size()), ARCHIVE_OK);
        std::vector<ReadEntry> out;
        archive_entry* entry = nullptr;
        while (archive_read_next_header(reader.get(), &entry) == ARCHIVE_OK) {
            ReadEntry e;
            e.path = archive_entry_pathname(entry);
            e.type = archive_entry_filetype(entry);
            e.mode = archive_entry_perm(entry);
            e.uid = archive_entry_uid(entry);
            e.mtime = archive_entry_mtime(entry);
            e.uname = archive_entry_uname(entry) != nullptr ? archive_entry_uname(entry) : "";
            e.link = archive_entry_symlink(entry) != nullptr ? archive_entry_symlink(entry) : "";
            e.hardlink =
                archive_entry_hardlink(entry) != nullptr ? archive_entry_hardlink(entry) : "";
            std::vector<char> buffer(1 << 16);
            for (la_ssize_t got;
                 (got = archive_read_data(reader.get(), buffer.data(), buffer.size())) > 0;) {
                e.data.append(buffer.data(), static_cast<std::size_t>(got));
            }
            out.push_back(std::move(e));
        }
        return out;
    }

    unpack::Tree sample_tree() const {
        unpack::Tree tree(unpack::Tree::Options{true, {}});
        tree.put_file("usr/bin/app", "#!binary\n", 0755);
        tree.put_file("etc/passwd", "root:x:0:0::/root:/sbin/nologin\n");
        tree.put_symlink("etc/localtime", "/usr/share/zoneinfo/Etc/UTC");
        tree.put_directory("tmp", 01777);
        tree.put_directory("home/nonroot", 0700, 65532, 65532);
        const std::string long_name = "usr/lib/" + std::string(150, 'x') + "/file";
        tree.put_file(long_name, sample(300'000));
        return tree;
    }
};

TEST_F(ImageLayer, SortedNumericOwnersOneEpochAndMatchingDigests) {
    const auto tree = sample_tree();
    core::NullReporter reporter;
    const auto blobs = scratch() / "blobs";
    const auto layer =
        write_layer(tree, LayerOptions{Compression::gzip, 2, 1700000000}, blobs, reporter);
    const auto blob_path = blobs / layer.blob.digest.substr(7);
    const auto blob = core::read_file(blob_path);
    EXPECT_EQ(layer.blob.digest, "sha256:" + core::sha256_hex(blob));
    EXPECT_EQ(layer.blob.size, blob.size());
    EXPECT_EQ(layer.blob.media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
    const auto tar = decompress(blob);
    EXPECT_EQ(layer.diff_id, "sha256:" + core::sha256_hex(tar));
    EXPECT_EQ(layer.tar_size, tar.size());
    EXPECT_EQ(tar.size() % 512, 0U);

    const auto entries = read_tar(tar);
    std::vector<std::string> paths;
    for (const auto& e : entries) {
        paths.push_back(e.path);
        EXPECT_EQ(e.mtime, 1700000000) << e.path;
        EXPECT_EQ(e.uname, "") << e.path;
    }
    EXPECT_TRUE(std::is_sorted(paths.begin(), paths.end()))
        << fmt::format("{}", fmt::join(paths, " "));
    EXPECT_EQ(entries.size(), tree.entries().size());
    const auto find = [&](const std::string& prefix) {
        return *std::find_if(entries.begin(), entries.end(),
                             [&](const ReadEntry& e) { return e.path.starts_with(prefix); });
    };
    EXPECT_EQ(find("usr/bin/app").data, "#!binary\n");
    EXPECT_EQ(find("usr/bin/app").mode, 0755U);
    EXPECT_EQ(find("etc/localtime").link, "/usr/share/zoneinfo/Etc/UTC");
    EXPECT_EQ(find("tmp").mode, 01777U);
    EXPECT_EQ(find("home/nonroot").uid, 65532);
    const std::string long_name = "usr/lib/" + std::string(150, 'x') + "/file";
    EXPECT_EQ(find(long_name).path, long_name); // longer than ustar holds: a pax header
    EXPECT_EQ(find(long_name).data.size(), 300'000U);
}

TEST_F(ImageLayer, TheSameTreeGivesTheSameBytesForAnyJobs) {
    const auto tree = sample_tree();
    core::NullReporter reporter;
    const auto a =
        write_layer(tree, LayerOptions{Compression::gzip, 1, 42}, scratch() / "a", reporter);
    const auto b =
        write_layer(tree, LayerOptions{Compression::gzip, 3, 42}, scratch() / "b", reporter);
    EXPECT_EQ(a.blob.digest, b.blob.digest);
    EXPECT_EQ(a.diff_id, b.diff_id);
    const auto c =
        write_layer(tree, LayerOptions{Compression::gzip, 1, 43}, scratch() / "c", reporter);
    EXPECT_NE(a.diff_id, c.diff_id);
}

TEST_F(ImageLayer, ADamagedContentPackIsCaught) {
    unpack::UnpackedPackage package;
    package.pack = write("pkg.pack", "hello world");
    package.control = "Package: p\n";
    package.unpacked_bytes = 11;
    package.entries.push_back(
        unpack::RawEntry{"./etc/", unpack::EntryType::directory, 0755, 0, 0, {}, 0, 0, {}, {}});
    package.entries.push_back(unpack::RawEntry{"./etc/greeting",
                                               unpack::EntryType::file,
                                               0644,
                                               0,
                                               0,
                                               {},
                                               11,
                                               0,
                                               core::sha256_hex("hello world"),
                                               {}});
    unpack::Tree tree(unpack::Tree::Options{true, {}});
    tree.add_package("p", "amd64", package);
    core::write_file_atomic(package.pack, "hello WORLD");
    core::NullReporter reporter;
    try {
        (void)write_layer(tree, LayerOptions{Compression::gzip, 1, 0}, scratch() / "blobs",
                          reporter);
        FAIL() << "damaged content reached the layer";
    } catch (const VerificationError& e) {
        EXPECT_THAT(e.what(), HasSubstr("`/etc/greeting` from p"));
        EXPECT_THAT(e.what(), HasSubstr("damaged"));
    }
}

} // namespace
} // namespace distill::image
