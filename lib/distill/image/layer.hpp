#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include <distill/core/reporter.hpp>
#include <distill/image/compress.hpp>
#include <distill/unpack/tree.hpp>

namespace distill::image {

/// A blob as OCI descriptors name it.
struct Descriptor {
    std::string media_type;
    std::string digest; ///< "sha256:<hex>"
    std::uint64_t size = 0;
};

/// The layer as written.
struct Layer {
    Descriptor blob;     ///< the compressed layer in the output
    std::string diff_id; ///< "sha256:<hex>" of the uncompressed tar
    std::uint64_t tar_size = 0;
    std::uint64_t entries = 0;
    std::uint64_t files = 0;
    /// The SHA-1 (hex) of each file's bytes, by path (regular files and hard links): SPDX's
    /// required file checksum, computed while the bytes stream into the layer (when
    /// LayerOptions::sha1 asks for it).
    std::map<std::string, std::string> sha1;
};

/// How to write the layer.
struct LayerOptions {
    Compression compression = Compression::gzip;
    int jobs = 1;
    /// Every entry's mtime.
    std::int64_t epoch = 0;
    /// Also hash each file with SHA-1 (Layer::sha1), for the SBOM.
    bool sha1 = false;
};

/// Writes the tree as one tar layer into `blobs_dir` (the layout's blobs/sha256), named by its
/// digest: entries in bytewise path order, owners numeric with no names, every mtime the epoch,
/// no access or change times, the pax format only where ustar cannot hold a value. Each file's
/// bytes are checked against the SHA-256 recorded when its package was unpacked, so a damaged
/// cache never reaches an image. The tar's and the blob's SHA-256 are computed while
/// streaming; nothing is held whole in memory.
[[nodiscard]] Layer write_layer(const unpack::Tree& tree, const LayerOptions& options,
                                const std::filesystem::path& blobs_dir, core::Reporter& reporter);

} // namespace distill::image
