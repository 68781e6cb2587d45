// The OCI layout reader: third-party layouts (../shared/testdata/oci/layouts, 8 valid and 3
// inconsistent), a layout and both archive kinds as distill writes them, and blobs whose bytes
// do not match their digest.

#include <array>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <distill/core/digest.hpp>
#include <distill/core/fs.hpp>
#include <distill/core/reporter.hpp>
#include <distill/image/layer.hpp>
#include <distill/image/layout.hpp>
#include <distill/image/oci.hpp>
#include <distill/image/output.hpp>
#include <distill/unpack/tree.hpp>

#include "support.hpp"

namespace distill::image {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

fs::path layouts_dir() {
    return test::testdata_dir() / "oci" / "layouts";
}

/// Every image each index.json entry of a layout leads to.
std::vector<LayoutImage> all_images(const Layout& layout) {
    std::vector<LayoutImage> out;
    for (const auto& listed : layout.index()) {
        const auto& type = listed.blob.media_type;
        if (type.find("manifest") != std::string::npos) { // images, not other artifacts
            for (auto& image : layout.images(listed)) {
                out.push_back(std::move(image));
            }
        }
    }
    return out;
}

/// What a layer holds: path -> type letter, and the bytes of its files.
struct LayerContents {
    std::map<std::string, char> types;
    std::map<std::string, std::string> files;
    std::map<std::string, std::string> links;
};

LayerContents contents_of(const Layout& layout, const Descriptor& layer) {
    LayerContents out;
    layout.read_layer(layer, [&](const LayerEntry& entry, const EntryContent& content) {
        static constexpr std::array<char, 5> k_letters{'f', 'd', 'l', 'h', 'o'};
        out.types[entry.path] = k_letters.at(static_cast<std::size_t>(entry.type));
        if (entry.type == LayerEntry::Type::file) {
            auto& bytes = out.files[entry.path];
            content([&](std::span<const std::byte> data) {
                bytes.append(reinterpret_cast<const char*>(data.data()), data.size());
            });
        } else if (!entry.link.empty()) {
            out.links[entry.path] = entry.link;
        }
    });
    return out;
}

TEST(ImageLayout, EveryValidThirdPartyLayoutOpensAndChecks) {
    DISTILL_REQUIRE_TESTDATA("oci/layouts/valid");
    std::map<std::string, std::size_t> images;
    for (const auto& item : fs::directory_iterator(layouts_dir() / "valid")) {
        SCOPED_TRACE(item.path().filename().string());
        const auto layout = Layout::open(item.path());
        EXPECT_FALSE(layout.is_archive());
        EXPECT_NO_THROW(layout.check());
        for (const auto& image : all_images(layout)) {
            // The config the manifest names is the one read, and it is an image config.
            EXPECT_EQ(image.config.digest,
                      image.manifest.at("config").at("digest").get<std::string>());
            EXPECT_TRUE(image.config_json.is_object());
            if (image.descriptor.platform) {
                EXPECT_EQ(image.config_json.at("architecture"),
                          image.descriptor.platform->architecture);
            }
        }
        images[item.path().filename().string()] = all_images(layout).size();
    }
    EXPECT_EQ(images.size(), 8U);
    EXPECT_EQ(images["apko-golden"], 2U);
    EXPECT_EQ(images["apko-top_image"], 2U);
    EXPECT_EQ(images["cimg-delete_image_two_identical_references"], 2U);
    EXPECT_EQ(images["ggcr-test_index_one_image"], 1U);
}

TEST(ImageLayout, ApkoGoldenHasAnImagePerPlatformWithReadableLayers) {
    DISTILL_REQUIRE_TESTDATA("oci/layouts/valid/apko-golden");
    const auto layout = Layout::open(layouts_dir() / "valid" / "apko-golden");
    // index.json is the image index here: one manifest per platform.
    ASSERT_EQ(layout.index().size(), 2U);
    EXPECT_EQ(layout.top().blob.media_type, k_manifest_media_type);
    EXPECT_EQ(layout.images().size(), 1U);
    const auto images = all_images(layout);
    ASSERT_EQ(images.size(), 2U);
    EXPECT_EQ(images[0].descriptor.platform->architecture, "amd64");
    EXPECT_EQ(images[1].descriptor.platform->architecture, "arm64");
    EXPECT_EQ(images[0].config_json.at("architecture"), "amd64");
    ASSERT_EQ(images[0].layers.size(), 1U);
    EXPECT_EQ(images[0].layers[0].media_type, "application/vnd.oci.image.layer.v1.tar+gzip");

    // The layers' entries: apk's database and its arch file (which says the platform of the
    // manifest that names the layer), the char devices of dev/, the lib/apk link.
    for (const auto& image : images) {
        SCOPED_TRACE(image.descriptor.platform->architecture);
        const auto contents = contents_of(layout, image.layers.at(0));
        EXPECT_EQ(contents.files.at("etc/apk/arch"),
                  image.descriptor.platform->architecture == "amd64" ? "x86_64\n" : "aarch64\n");
        EXPECT_THAT(contents.files.at("usr/lib/apk/db/installed"), HasSubstr("P:replayout"));
        EXPECT_EQ(contents.files.at("usr/lib/apk/db/lock"), "");
        EXPECT_EQ(contents.types.at("lib/apk"), 'l');
        EXPECT_EQ(contents.links.at("lib/apk"), "../usr/lib/apk");
        EXPECT_EQ(contents.types.at("dev/null"), 'o');
        EXPECT_EQ(contents.types.at("dev/zero"), 'o');
    }
}

TEST(ImageLayout, IndexJsonAnnotationsAndNestedIndexesAreRead) {
    DISTILL_REQUIRE_TESTDATA("oci/layouts/valid/ggcr-test_index");
    const auto layout = Layout::open(layouts_dir() / "valid" / "ggcr-test_index");
    std::vector<std::string> names;
    for (const auto& listed : layout.index()) {
        names.push_back(listed.annotations.at(k_ref_name_annotation));
    }
    EXPECT_THAT(names, ElementsAre("1", "2", "3", "4"));
    // The nested OCI index and the Docker manifest list each lead to their manifests.
    EXPECT_FALSE(layout.images(layout.index()[2]).empty());
    EXPECT_FALSE(layout.images(layout.index()[3]).empty());
    EXPECT_THROW((void)layout.images(layout.index()[1]), Error) << "a bare descriptor";
}

TEST(ImageLayout, AConfigLargerThanItsDescriptorSaysIsRejected) {
    DISTILL_REQUIRE_TESTDATA("oci/layouts/invalid/cimg-delete_image_only_one_image");
    const auto path = layouts_dir() / "invalid" / "cimg-delete_image_only_one_image";
    const auto layout = Layout::open(path);
    try {
        layout.check();
        FAIL() << "a config of the wrong size was accepted";
    } catch (const VerificationError& e) {
        EXPECT_THAT(e.what(), HasSubstr(path.string() + ": blob sha256:a527179158cd"));
        EXPECT_THAT(e.what(), HasSubstr("more than the 585 bytes its descriptor says"));
        EXPECT_EQ(e.exit_code(), ExitCode::verification);
    }
    EXPECT_THROW((void)layout.images(), VerificationError);
}

TEST(ImageLayout, AMissingBlobIsRejected) {
    DISTILL_REQUIRE_TESTDATA("oci/layouts/invalid/ggcr-test_gc_image_unknown_mediatype");
    const auto path = layouts_dir() / "invalid" / "ggcr-test_gc_image_unknown_mediatype";
    const auto layout = Layout::open(path);
    try {
        layout.check();
        FAIL() << "a missing blob was not noticed";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  path.string() +
                      ": blob sha256:32589985702551b6c56033bb3334432a0a513bf9d6aceda0f67c42b0038507"
                      "20: missing");
    }
}

TEST(ImageLayout, AnIndexWithoutOciLayoutIsNotALayout) {
    DISTILL_REQUIRE_TESTDATA("oci/layouts/invalid/cimg-name_lookups");
    const auto path = layouts_dir() / "invalid" / "cimg-name_lookups";
    try {
        (void)Layout::open(path);
        FAIL() << "a directory without oci-layout was opened";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  path.string() + ": no oci-layout: not an OCI image layout");
    }
    EXPECT_EQ(existing_digest(path), std::nullopt);
}

/// A two-platform image as distill's build writes it: a layer per platform from a tree, a
/// config, a manifest, an image index and index.json.
class DistillLayout : public test::ScratchTest {
protected:
    void SetUp() override {
        LayoutWriter writer(layout_dir());
        std::vector<IndexEntry> entries;
        std::vector<Platform> platforms;
        for (const char* architecture : {"amd64", "arm64"}) {
            unpack::Tree tree(unpack::Tree::Options{true, {}});
            tree.put_file("etc/hostname", fmt::format("built for {}\n", architecture));
            tree.put_file("usr/bin/app", std::string(200000, 'x'), 0755);
            tree.put_symlink("bin", "usr/bin");
            tree.put_directory("tmp", 01777);
            core::NullReporter reporter;
            const auto layer = write_layer(tree, LayerOptions{Compression::gzip, 1, 1700000000},
                                           writer.blobs_dir(), reporter);
            ConfigInput input;
            input.platform = Platform{"linux", architecture, ""};
            input.epoch = 1700000000;
            input.diff_id = layer.diff_id;
            input.history = "test";
            const auto config = writer.put(k_config_media_type, config_json(input));
            const auto manifest =
                writer.put(k_manifest_media_type, manifest_json(config, layer.blob, {}));
            entries.push_back({manifest, input.platform});
            platforms.push_back(input.platform);
            m_layers.push_back(layer.blob);
            m_configs.push_back(config);
        }
        m_top = writer.put(k_index_media_type, index_json(entries));
        writer.finish(m_top, {{k_ref_name_annotation, "1.0"}}, platforms);
    }

    [[nodiscard]] fs::path layout_dir() const { return scratch() / "layout"; }

    /// Changes a blob's bytes, keeping its size.
    void damage(const Descriptor& blob, std::size_t at) const {
        const auto path = layout_dir() / "blobs" / "sha256" / blob.digest.substr(7);
        auto bytes = core::read_file(path);
        bytes.at(at) = static_cast<char>(bytes.at(at) ^ 0x01);
        fs::remove(path);
        core::write_file_atomic(path, bytes);
    }

    std::vector<Descriptor> m_layers;
    std::vector<Descriptor> m_configs;
    Descriptor m_top;
};

TEST_F(DistillLayout, TheDirectoryAndBothArchiveKindsReadTheSame) {
    const auto oci_archive = scratch() / "image.oci.tar";
    const auto docker_archive = scratch() / "image.docker.tar";
    write_layout_archive(layout_dir(), oci_archive, 1700000000, std::nullopt);
    write_layout_archive(layout_dir(), docker_archive, 1700000000,
                         docker_manifest_json(m_configs[0], m_layers[0], "example.com/app:1.0"));
    for (const auto& path : {layout_dir(), oci_archive, docker_archive}) {
        SCOPED_TRACE(path.filename().string());
        const auto layout = Layout::open(path);
        EXPECT_EQ(layout.is_archive(), path != layout_dir());
        EXPECT_EQ(layout.top().blob.digest, m_top.digest);
        EXPECT_EQ(layout.top().blob.size, m_top.size);
        EXPECT_EQ(layout.top().annotations.at(k_ref_name_annotation), "1.0");
        EXPECT_EQ(existing_digest(path), m_top.digest);
        EXPECT_NO_THROW(layout.check());
        const auto images = layout.images();
        ASSERT_EQ(images.size(), 2U);
        for (std::size_t i = 0; i < images.size(); ++i) {
            const std::string architecture = i == 0 ? "amd64" : "arm64";
            EXPECT_EQ(images[i].descriptor.platform->architecture, architecture);
            EXPECT_EQ(images[i].config.digest, m_configs[i].digest);
            EXPECT_EQ(images[i].config_json.at("architecture"), architecture);
            EXPECT_EQ(images[i].config_json.at("created"), "2023-11-14T22:13:20Z");
            ASSERT_EQ(images[i].layers.size(), 1U);
            EXPECT_EQ(images[i].layers[0].digest, m_layers[i].digest);
            const auto contents = contents_of(layout, images[i].layers[0]);
            EXPECT_EQ(contents.files.at("etc/hostname"), "built for " + architecture + "\n");
            EXPECT_EQ(contents.files.at("usr/bin/app"), std::string(200000, 'x'));
            EXPECT_EQ(contents.types.at("bin"), 'l');
            EXPECT_EQ(contents.links.at("bin"), "usr/bin");
            EXPECT_EQ(contents.types.at("tmp/"), 'd'); // as the tar spells directories
        }
        EXPECT_EQ(
            layout.read_blob(m_configs[1]),
            core::read_file(layout_dir() / "blobs" / "sha256" / m_configs[1].digest.substr(7)));
    }
}

TEST_F(DistillLayout, ALayerWhoseBytesDoNotMatchItsDigestIsRejected) {
    damage(m_layers[1], 40); // inside the compressed data: the tar may still read
    const auto layout = Layout::open(layout_dir());
    const auto images = layout.images(); // manifests and configs are intact
    ASSERT_EQ(images.size(), 2U);
    EXPECT_NO_THROW((void)contents_of(layout, images[0].layers[0]));
    try {
        (void)contents_of(layout, images[1].layers[0]);
        FAIL() << "a damaged layer was read";
    } catch (const Error& e) {
        // Either the tar breaks first or the digest does not match at the end: never silence.
        EXPECT_THAT(e.what(), HasSubstr(layout_dir().string()));
    }
    try {
        layout.stream_blob(m_layers[1], [](std::span<const std::byte>) {});
        FAIL() << "a damaged blob was streamed without error";
    } catch (const VerificationError& e) {
        EXPECT_THAT(e.what(),
                    HasSubstr(": blob " + m_layers[1].digest + ": the bytes hash to sha256:"));
    }
    EXPECT_THROW(layout.check(), VerificationError);

    // The same damage read from an archive.
    const auto archive = scratch() / "image.tar";
    write_layout_archive(layout_dir(), archive, 0, std::nullopt);
    EXPECT_THROW(Layout::open(archive).check(), VerificationError);
}

TEST_F(DistillLayout, ADamagedTrailerIsCaughtThoughTheTarReadsWhole) {
    // The last bytes of a gzip member are its CRC and size: a tar reader that stops at the
    // end-of-archive blocks never reads them, the verification does.
    const auto path = layout_dir() / "blobs" / "sha256" / m_layers[0].digest.substr(7);
    damage(m_layers[0], static_cast<std::size_t>(fs::file_size(path) - 1));
    const auto layout = Layout::open(layout_dir());
    EXPECT_THROW((void)contents_of(layout, m_layers[0]), Error);
}

TEST_F(DistillLayout, ADamagedConfigIsRejected) {
    damage(m_configs[0], 5);
    const auto layout = Layout::open(layout_dir());
    try {
        (void)layout.images();
        FAIL() << "a damaged config was read";
    } catch (const VerificationError& e) {
        EXPECT_THAT(e.what(), HasSubstr(": blob " + m_configs[0].digest + ": the bytes hash to"));
    }
}

TEST_F(DistillLayout, ADigestThatIsNoSha256NeverNamesAFile) {
    const auto index_path = layout_dir() / "index.json";
    auto index = nlohmann::json::parse(core::read_file(index_path));
    index["manifests"][0]["digest"] = "sha256:../../../etc/passwd";
    fs::remove(index_path);
    core::write_file_atomic(index_path, index.dump());
    try {
        (void)Layout::open(layout_dir());
        FAIL() << "a digest with a path in it was accepted";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(),
                    HasSubstr("index.json: manifests[0]: digest `sha256:../../../etc/passwd` "
                              "is not sha256:<64 lowercase hex digits>"));
    }
    index["manifests"][0]["digest"] = "sha512:" + std::string(128, 'a');
    fs::remove(index_path);
    core::write_file_atomic(index_path, index.dump());
    EXPECT_THROW((void)Layout::open(layout_dir()), Error);
    EXPECT_EQ(existing_digest(layout_dir()), std::nullopt);
}

TEST_F(DistillLayout, DocumentsAreBoundedInSize) {
    const auto layout = Layout::open(layout_dir());
    Descriptor huge = m_configs[0];
    huge.size = k_max_document_size + 1;
    try {
        (void)layout.read_blob(huge);
        FAIL() << "a document beyond the bound was read";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("more than the 4194304 a layout's document may have"));
    }
    // index.json itself is bounded too.
    const auto index_path = layout_dir() / "index.json";
    fs::remove(index_path);
    core::write_file_atomic(index_path, std::string(k_max_document_size + 10, ' '));
    EXPECT_THROW((void)Layout::open(layout_dir()), Error);
}

TEST(ImageLayoutOpen, NeitherADirectoryNorATarIsAnError) {
    const test::ScratchDir scratch;
    EXPECT_THROW((void)Layout::open(scratch.path() / "nothing"), Error);
    core::write_file_atomic(scratch.path() / "text", "not a tar at all\n");
    EXPECT_THROW((void)Layout::open(scratch.path() / "text"), Error);
    EXPECT_EQ(existing_digest(scratch.path() / "text"), std::nullopt);
}

} // namespace
} // namespace distill::image
