#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <distill/image/layer.hpp>
#include <distill/package/record.hpp>
#include <distill/sbom/facts.hpp>
#include <distill/unpack/tree.hpp>

namespace distill::distro {
class Distro;
}

// Bills of materials: per image (per architecture), an SPDX 2.3 and a CycloneDX 1.6 JSON
// document of what the image holds: the operating system, every package (with its source,
// supplier, licence, download URL, checksum and purl), every file of the layer exactly once
// with its hashes and the package that shipped it (or what distill generated it for), and who
// depends on whom as the plan says. Reproducible: identifiers derive from the image manifest's
// digest and times from the build epoch, so one image always has the same documents.
namespace distill::sbom {

inline constexpr std::string_view k_spdx_media_type = "application/spdx+json";
inline constexpr std::string_view k_cyclonedx_media_type = "application/vnd.cyclonedx+json";

/// What /etc/os-release (or /usr/lib/os-release) says the image is.
struct OsRelease {
    std::string id;          ///< "debian", "alpine"
    std::string version_id;  ///< "12", "3.19.1"; empty for a release without one (sid)
    std::string pretty_name; ///< for people
};

/// The os-release of the tree (etc/os-release, or the usr/lib/os-release it links to), bounded
/// and parsed as the format says: KEY=value lines, values perhaps quoted.
[[nodiscard]] OsRelease os_release(const unpack::Tree& tree);

/// The package URL of a package: pkg:TYPE/OS/NAME@VERSION?arch=ARCH&distro=OS-VERSION&
/// upstream=SOURCE[@SOURCE_VERSION], each part percent-encoded as the purl specification says.
/// Debian names the source with its version, Alpine by its origin alone.
[[nodiscard]] std::string purl(const package::Record& record, const PackageFacts& facts,
                               const OsRelease& os);

/// One image's inputs to its bill of materials.
struct Inputs {
    std::string name;            ///< the manifest's name
    std::string arch;            ///< the distro's name of the architecture
    std::string manifest_digest; ///< of the image manifest: "sha256:<hex>"
    std::int64_t epoch = 0;      ///< the build's, for every time stamp
    const unpack::Tree* tree = nullptr;
    /// The SHA-1 of each file of the layer written with its bytes (image::Layer::sha1).
    const std::map<std::string, std::string>* sha1 = nullptr;
    const distro::Distro* distro = nullptr;
};

/// The two documents of one image.
struct Documents {
    std::string spdx;
    std::string cyclonedx;
};

/// Makes both documents. The packages are the tree's (with the plan's why and depends); the
/// files are the layer's regular files and hard links, each once (SPDX) plus its symlinks
/// (CycloneDX, whose files `distill inspect` reads back).
[[nodiscard]] Documents make(const Inputs& inputs);

/// The artifact manifest that carries one document in an OCI layout or registry: an image
/// manifest with `artifactType` the document's media type, the empty config, the document as
/// its one layer, and `subject` the image manifest (distribution-spec 1.1 referrers).
[[nodiscard]] std::string artifact_manifest(std::string_view media_type,
                                            const image::Descriptor& document,
                                            const image::Descriptor& subject,
                                            std::string_view title, std::int64_t epoch);

/// The empty config blob of artifacts ("{}") and its media type.
inline constexpr std::string_view k_empty_config = "{}";
inline constexpr std::string_view k_empty_media_type = "application/vnd.oci.empty.v1+json";

} // namespace distill::sbom
