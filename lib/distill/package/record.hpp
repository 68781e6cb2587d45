#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <distill/core/cache.hpp>
#include <distill/unpack/package.hpp>

// One record per package, carried through the pipeline's steps: each step fills in what it
// learned, and what comes after (the tree, the package database, a bill of materials) reads
// it there, instead of vectors matched by index.
namespace distill::package {

/// A package of the image, as far as the pipeline has got with it.
struct Record {
    // Planned: what the resolver (or the lock) says.
    std::string name;
    std::string version;
    std::string arch;
    std::uint64_t installed_size = 0; ///< bytes, as the index declares
    std::uint64_t download_size = 0;  ///< bytes of the package file
    /// Of the package file, from the verified index; for a distro whose index gives none
    /// (Alpine), empty until fetched, then the hash of the file that passed `checksum`.
    std::string sha256;
    std::string url;    ///< where to download it
    std::string suite;  ///< the suite it comes from
    std::string source; ///< its source package
    /// Why it is in the image: the chain of dependencies from a requested package down to
    /// this one, both included ("openjdk-17-jre-headless", "libnss3", "libnspr4").
    std::vector<std::string> why{};
    /// The packages of the plan it depends on directly (what satisfies its dependencies), by
    /// name, sorted: the SBOM's dependency relationships.
    std::vector<std::string> depends{};
    /// The distro's own identity of the package file, from the verified index: Alpine's `C:`
    /// (the SHA-1 of the package's control part); empty for Debian.
    std::string checksum{};
    /// Empty for a package of the image; the name of the variant (manifest::k_variant_debug)
    /// for one that only that variant adds.
    std::string variant{};

    // Downloaded: the verified package file in the cache (empty until fetched).
    std::filesystem::path file{};

    // Unpacked: its contents (null until unpacked).
    std::shared_ptr<const unpack::UnpackedPackage> contents{};

    // Shipped: what of it is in the image, filled in by the tree (unpack::Tree::add_package).
    std::vector<unpack::ShippedPath> paths{};
};

/// "name version", as messages and progress name a package.
[[nodiscard]] std::string label(const Record& record);

/// Notes in the cache which package file (by SHA-256) holds this name, version and arch, so
/// that a later `distill diff` of an image, which knows only names and versions, finds the
/// file and its changelog. Written by the pipeline's fetch step.
void remember_file(const core::Cache& cache, const Record& record);

/// The SHA-256 of the package file remember_file() noted for a package, if any.
[[nodiscard]] std::optional<std::string> remembered_file(const core::Cache& cache,
                                                         const std::string& name,
                                                         const std::string& version,
                                                         const std::string& arch);

} // namespace distill::package
