#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <distill/core/error.hpp>

// A package's content as the pipeline reads it, whatever format the package came in: the
// distro's reader (distro::Distro::reader()) turns its package file into this.
namespace distill::unpack {

/// A package tried to put something into the image that an image must never hold: a path that
/// climbs out of the root, a device node, a link out of the tree. The message names the package
/// and the path.
class UnsafeContentError : public Error {
public:
    explicit UnsafeContentError(const std::string& message)
        : Error(message, ExitCode::unsafe_content) {}
};

/// What an archive entry is. Device nodes, FIFOs and sockets are recorded so that the tree can
/// refuse them with a clear message; they never reach an image.
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

/// One entry of a package's data, as the package has it: the path is not normalised and
/// nothing about it is trusted yet.
struct RawEntry {
    std::string path; ///< as in the package, e.g. "./usr/bin/java"
    EntryType type = EntryType::file;
    std::uint32_t mode = 0; ///< permission bits, setuid/setgid/sticky included (07777)
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::string link;         ///< symlink target, or the path a hard link points at
    std::uint64_t size = 0;   ///< bytes of a regular file
    std::uint64_t offset = 0; ///< where a regular file's bytes start in the content pack
    std::string sha256;       ///< hex, regular files only
    std::string md5;          ///< hex, regular files only (package databases list it)
};

/// How one package path ended up: what the package calls it, where it is in the image.
struct ShippedPath {
    std::string shipped; ///< as the package names it, normalised: "bin/ls"
    std::string path;    ///< in the image: "usr/bin/ls"
    EntryType type = EntryType::file;
};

/// A package's content in the form the rest of the pipeline reads: its metadata files, its
/// entries, and one "content pack" file holding the bytes of every regular file back to back.
/// Derived from a verified package file and cached by that file's SHA-256 (see unpack()), so a
/// warm build reads no compressed data at all and a package's files never land on the host as
/// files.
struct UnpackedPackage {
    /// The package's description of itself, as its package database keeps it (a Debian
    /// control file).
    std::string control;
    std::string md5sums;   ///< the list of its files' MD5 sums, when the package has one
    std::string conffiles; ///< the configuration files it marks, when it has such a list
    /// The maintainer scripts that run at install time, by name; distill never runs them, but
    /// tells what they would do.
    std::map<std::string, std::string> scripts;
    std::int64_t date = 0; ///< when the package's data was built (its archive's timestamp)
    std::vector<RawEntry> entries;
    std::filesystem::path pack;       ///< the content pack in the cache
    std::uint64_t unpacked_bytes = 0; ///< sum of the regular files' sizes
};

/// Bounds on decompression, against packages built to exhaust memory or disk.
struct Limits {
    /// Most bytes the data may expand to; 0: no bound from the index.
    std::uint64_t max_bytes = 0;
    /// Most times the data may expand over its compressed size (past the first 64 MiB, so that
    /// small, very compressible packages pass).
    std::uint64_t max_ratio = 200;
    /// Most entries (files, directories, links) one package may hold: Debian's largest hold a
    /// few tens of thousands; a million empty files costs a gigabyte of memory.
    std::uint64_t max_entries = 200'000;
};

} // namespace distill::unpack
