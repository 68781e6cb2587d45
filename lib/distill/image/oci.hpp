#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <distill/image/layer.hpp>
#include <distill/manifest/manifest.hpp>

namespace distill::image {

/// An OCI platform.
struct Platform {
    std::string os = "linux";
    std::string architecture; ///< GOARCH spelling: amd64, arm64, arm, 386, ppc64le, ...
    std::string variant;      ///< v7, v8, ... where it matters
};

/// The OCI platform of one of `distro`'s architecture names (distro::arch_table()).
[[nodiscard]] Platform platform_for(manifest::Distro distro, const std::string& arch);

/// What the image configuration says, with the manifest's defaults resolved.
struct ConfigInput {
    Platform platform;
    manifest::ImageConfig config; ///< after manifest::with_defaults
    std::string user;             ///< "uid:gid" for config.user
    std::int64_t epoch = 0;       ///< `created`, and the history entry's date
    std::string diff_id;
    std::string history; ///< the history entry's created_by
    /// Layers a variant adds on top of the image's: diff_id and the history entry's created_by.
    std::vector<std::pair<std::string, std::string>> added_layers{};
};

/// The image configuration JSON (application/vnd.oci.image.config.v1+json): keys sorted, no
/// whitespace, so the same input gives the same bytes.
[[nodiscard]] std::string config_json(const ConfigInput& input);

/// The image manifest JSON for one config and one layer (and the layers a variant adds).
[[nodiscard]] std::string manifest_json(const Descriptor& config, const Descriptor& layer,
                                        const std::map<std::string, std::string>& annotations,
                                        const std::vector<Descriptor>& added_layers = {});

/// A manifest in an index, with its platform.
struct IndexEntry {
    Descriptor manifest;
    Platform platform;
};

/// An image index JSON listing per-platform manifests.
[[nodiscard]] std::string index_json(const std::vector<IndexEntry>& manifests);

/// "YYYY-MM-DDTHH:MM:SSZ" for an epoch.
[[nodiscard]] std::string rfc3339(std::int64_t epoch);

/// A descriptor for `content` with this media type.
[[nodiscard]] Descriptor describe_blob(const std::string& media_type, const std::string& content);

/// An OCI image layout being written into a directory: blobs/sha256/<hex>, oci-layout and,
/// by finish(), index.json.
/// An artifact manifest in a layout (an SBOM whose subject is an image manifest): index.json
/// lists it after the image, with its artifactType.
struct Artifact {
    Descriptor manifest;
    std::string artifact_type;
};

class LayoutWriter {
public:
    explicit LayoutWriter(std::filesystem::path root);

    [[nodiscard]] const std::filesystem::path& root() const noexcept { return m_root; }
    [[nodiscard]] std::filesystem::path blobs_dir() const;
    /// Writes a JSON (or any small) blob and returns its descriptor.
    Descriptor put(const std::string& media_type, const std::string& content);
    /// An image index.json lists after the first: a variant, with its own annotations.
    struct Sibling {
        Descriptor top;
        std::map<std::string, std::string> annotations;
    };
    /// Writes index.json listing `top` (a manifest or an image index) with these annotations
    /// (k_ref_name_annotation, k_image_name_annotation), then `siblings`, then `artifacts`.
    void finish(const Descriptor& top, const std::map<std::string, std::string>& annotations,
                const std::vector<Platform>& platforms, const std::vector<Artifact>& artifacts = {},
                const std::vector<Sibling>& siblings = {});

private:
    std::filesystem::path m_root;
};

inline constexpr const char* k_manifest_media_type = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* k_index_media_type = "application/vnd.oci.image.index.v1+json";
inline constexpr const char* k_config_media_type = "application/vnd.oci.image.config.v1+json";

/// The OCI annotation naming an image in index.json: the tag of `oci:DIR:TAG`, or a whole
/// reference.
inline constexpr const char* k_ref_name_annotation = "org.opencontainers.image.ref.name";
/// Containerd's annotation with an image's fully qualified name: containerd and newer docker
/// name an image they load from an archive by it, and podman prefers it to the ref name.
inline constexpr const char* k_image_name_annotation = "io.containerd.image.name";

} // namespace distill::image
