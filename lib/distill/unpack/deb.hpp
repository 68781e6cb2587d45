#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <distill/core/cache.hpp>
#include <distill/core/error.hpp>
#include <distill/core/reporter.hpp>

namespace distill::unpack {

/// A package tried to put something into the image that an image must never hold: a path that
/// climbs out of the root, a device node, a link out of the tree. The message names the package
/// and the path.
class UnsafeContentError : public Error {
public:
    explicit UnsafeContentError(const std::string& message)
        : Error(message, ExitCode::unsafe_content) {}
};

/// What a tar entry is. Device nodes, FIFOs and sockets are recorded so that the tree can refuse
/// them with a clear message; they never reach an image.
enum class EntryType : std::uint8_t {
    file,
    directory,
    symlink,
    hardlink,
    char_device,
    block_device,
    fifo,
    socket
};

/// "file", "directory", ... for messages and the cached form.
[[nodiscard]] const char* to_string(EntryType type);

/// One entry of a package's data archive, as the package has it: the path is not normalised
/// and nothing about it is trusted yet.
struct RawEntry {
    std::string path; ///< as in the archive, e.g. "./usr/bin/java"
    EntryType type = EntryType::file;
    std::uint32_t mode = 0; ///< permission bits, setuid/setgid/sticky included (07777)
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::string link;         ///< symlink target, or the path a hard link points at
    std::uint64_t size = 0;   ///< bytes of a regular file
    std::uint64_t offset = 0; ///< where a regular file's bytes start in the content pack
    std::string sha256;       ///< hex, regular files only
    std::string md5;          ///< hex, regular files only (dpkg's md5sums)
};

/// A package's content in the form the rest of the pipeline reads: its control data, its
/// entries, and one "content pack" file holding the bytes of every regular file back to back.
/// Derived from a verified .deb and cached by that .deb's SHA-256, so a warm build reads no
/// compressed data at all and a package's files never land on the host as files.
struct UnpackedPackage {
    std::string control;   ///< the control file (the package's stanza for dpkg's status)
    std::string md5sums;   ///< the md5sums control member, when the package has one
    std::string conffiles; ///< the conffiles control member, when the package has one
    /// The maintainer scripts that run at install time (deb::install_scripts(): preinst,
    /// config, postinst), by name; distill never runs them, but tells what they would do.
    std::map<std::string, std::string> scripts;
    std::int64_t date = 0; ///< the data member's timestamp in the .deb: when it was built
    std::vector<RawEntry> entries;
    std::filesystem::path pack;       ///< the content pack in the cache
    std::uint64_t unpacked_bytes = 0; ///< sum of the regular files' sizes
};

/// Bounds on decompression, against packages built to exhaust memory or disk.
struct Limits {
    /// Most bytes the data archive may expand to; 0: no bound from the index.
    std::uint64_t max_bytes = 0;
    /// Most times the data archive may expand over its compressed size (past the first 64 MiB,
    /// so that small, very compressible packages pass).
    std::uint64_t max_ratio = 200;
};

/// A .deb to unpack.
struct DebInput {
    std::filesystem::path path; ///< the verified .deb in the cache
    std::string sha256;         ///< its SHA-256 (keys the cached form)
    std::string label;          ///< "openjdk-17-jre-headless 17.0.13+11-2", for messages
    Limits limits;
};

/// Reads a .deb (ar archive: debian-binary, control.tar[.gz|.xz|.zst], data.tar[.gz|.xz|.zst|
/// .bz2]) by streaming it through libarchive; file contents go into a new content pack in the
/// cache, with their SHA-256 and MD5. Returns the cached form when it is there already.
/// A malformed package, a truncated stream or a broken limit is an Error naming the label.
[[nodiscard]] UnpackedPackage unpack_deb(const DebInput& input, const core::Cache& cache);

/// unpack_deb for many packages, `jobs` at a time; results in input order. The first failure
/// stops the others and is rethrown.
[[nodiscard]] std::vector<UnpackedPackage> unpack_all(const std::vector<DebInput>& inputs,
                                                      const core::Cache& cache, int jobs,
                                                      core::Reporter& reporter);

} // namespace distill::unpack
