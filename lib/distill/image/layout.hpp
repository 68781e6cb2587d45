#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <distill/image/layer.hpp>
#include <distill/image/oci.hpp>

// The one reader of OCI image layouts: the directory distill writes, or a tar archive of one
// (oci-archive, docker-archive). Everything in a layout is outside data: documents are bounded
// in size, digests are checked for form before they name a file, and every blob read is
// verified against its digest and size.
namespace distill::image {

/// The most bytes a JSON document of a layout may have (oci-layout, index.json, an image
/// index, a manifest, a config): registries accept manifests up to 4 MiB.
inline constexpr std::uint64_t k_max_document_size = 4U << 20U;

/// A descriptor as an index lists it: the blob, its annotations and its platform.
struct ListedDescriptor {
    Descriptor blob; ///< media type, "sha256:<hex>" digest, size
    std::map<std::string, std::string> annotations{};
    std::optional<Platform> platform{};
};

/// One image of a layout: a manifest, read and verified, with its config.
struct LayoutImage {
    ListedDescriptor descriptor; ///< how the index lists the manifest
    nlohmann::json manifest;     ///< the manifest document
    Descriptor config;           ///< the config's descriptor
    nlohmann::json config_json;  ///< the config document
    std::vector<Descriptor> layers;
};

/// A descriptor in a layout's document (mediaType, a sha256 digest, size, and annotations
/// and platform where given), checked; an Error names `where` and what is wrong.
[[nodiscard]] ListedDescriptor read_descriptor(const nlohmann::json& value,
                                               const std::string& where);

/// An entry of a layer's tar.
struct LayerEntry {
    enum class Type { file, directory, symlink, hard_link, other };
    std::string path; ///< as the tar has it
    Type type = Type::file;
    std::uint32_t mode = 0; ///< permission bits (with setuid, setgid, sticky)
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::uint64_t size = 0; ///< of a file's bytes
    std::string link;       ///< a symlink's target, or the path a hard link names
};

/// Gives an entry's bytes, piece by piece, to the function it is called with; not calling it
/// skips them.
using EntryContent = std::function<void(const std::function<void(std::span<const std::byte>)>&)>;

/// An OCI image layout opened for reading. Errors name the layout and the blob: a structural
/// problem (no oci-layout, a missing blob, a malformed document) is an Error, bytes that do not
/// match their digest or size a VerificationError.
class Layout {
public:
    /// Opens a layout directory or a tar archive of one; reads oci-layout and index.json.
    [[nodiscard]] static Layout open(const std::filesystem::path& path);

    ~Layout();
    Layout(Layout&&) noexcept;
    Layout& operator=(Layout&&) noexcept;
    Layout(const Layout&) = delete;
    Layout& operator=(const Layout&) = delete;

    [[nodiscard]] const std::filesystem::path& path() const noexcept { return m_path; }
    /// Whether it is an archive (else a directory).
    [[nodiscard]] bool is_archive() const noexcept;
    /// What index.json lists, in order.
    [[nodiscard]] const std::vector<ListedDescriptor>& index() const noexcept { return m_index; }
    /// index.json's first entry: the image (distill writes one, an index or a manifest).
    [[nodiscard]] const ListedDescriptor& top() const;

    /// The images a descriptor leads to: itself when it is a manifest, the manifests of an
    /// image index (nested indexes followed) with their platforms. Reads and verifies the
    /// manifests and configs, not the layers.
    [[nodiscard]] std::vector<LayoutImage> images(const ListedDescriptor& descriptor) const;
    /// The images of top().
    [[nodiscard]] std::vector<LayoutImage> images() const { return images(top()); }

    /// A blob's bytes, verified; a blob larger than `limit` is refused before it is read.
    [[nodiscard]] std::string read_blob(const Descriptor& blob,
                                        std::uint64_t limit = k_max_document_size) const;
    /// A blob's bytes in pieces, of any size. The blob is verified once it is read whole: the
    /// sink may have seen bytes of a blob that then fails, and must discard what it made.
    void stream_blob(const Descriptor& blob,
                     const std::function<void(std::span<const std::byte>)>& sink) const;
    /// Each entry of a layer (a tar, compressed or not), in order, with its bytes; the layer
    /// blob is verified by the end, as stream_blob does.
    void read_layer(const Descriptor& layer,
                    const std::function<void(const LayerEntry&, const EntryContent&)>& visit) const;

    /// Reads everything index.json reaches (indexes, manifests, configs, layers, other blobs)
    /// and checks each against its digest and size: throws on the first inconsistency.
    void check() const;

    struct Source; ///< where the files come from: a directory or an archive

private:
    Layout(std::filesystem::path path, std::unique_ptr<Source> source);

    std::filesystem::path m_path;
    std::unique_ptr<Source> m_source;
    std::vector<ListedDescriptor> m_index;
};

} // namespace distill::image
