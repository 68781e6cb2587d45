#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <distill/image/layout.hpp>

// Reading SBOMs back: the artifacts of an OCI layout whose subject is one of its images, and
// what a CycloneDX document of distill's says of each path (`distill sbom`, `distill inspect`).
// A layout is outside data: every blob is verified, every document bounded.
namespace distill::sbom {

/// An SBOM a layout holds: an artifact whose subject is one of the layout's image manifests.
struct StoredSbom {
    image::Platform platform;   ///< of the image it is about
    std::string subject;        ///< that image's manifest digest
    std::string media_type;     ///< of the document: application/spdx+json, ...
    image::Descriptor artifact; ///< the artifact manifest
    image::Descriptor document; ///< the document blob
};

/// The SBOMs of the layout's images, in index.json's order. Artifacts about something else,
/// or that are not SBOMs, are passed over.
[[nodiscard]] std::vector<StoredSbom> stored_sboms(const image::Layout& layout);

/// Whether `arch` names the platform: the OCI architecture (amd64, arm64) or a distro's name
/// of the same machine (x86_64, aarch64).
[[nodiscard]] bool names_platform(std::string_view arch, const image::Platform& platform);

/// The document, verified against its digest; at most 256 MiB.
[[nodiscard]] std::string read_document(const image::Layout& layout, const StoredSbom& sbom);

/// Where a path of the image comes from, as the CycloneDX document says.
struct Origin {
    std::string package;   ///< the package that shipped it (empty: distill or the manifest)
    std::string generated; ///< otherwise, why it is there
};

/// A package of the image, as the CycloneDX document says.
struct InventoryPackage {
    std::string name;
    std::string version;
    std::string arch;
    std::string source;
    std::string purl;
    std::string license;          ///< empty: no assertion
    std::vector<std::string> why; ///< the chain from a requested package down to it
};

/// What distill's CycloneDX document of an image says of its packages and paths.
struct Inventory {
    std::map<std::string, InventoryPackage> packages; ///< by name
    std::map<std::string, Origin> paths;              ///< "/usr/bin/java" -> origin
};

/// Reads a CycloneDX document distill wrote. An Error names what is malformed.
[[nodiscard]] Inventory read_inventory(std::string_view cyclonedx);

} // namespace distill::sbom
