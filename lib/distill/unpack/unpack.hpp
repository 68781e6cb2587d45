#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include <distill/core/cache.hpp>
#include <distill/core/digest.hpp>
#include <distill/core/fs.hpp>
#include <distill/core/reporter.hpp>
#include <distill/unpack/package.hpp>

// Unpacking without a format: the content-pack cache (derived/unpacked/<sha256>.pack and
// .json) and the parallel loop are the same for every distro; a distro's Reader only turns
// its package file into entries and pack bytes.
namespace distill::unpack {

/// A verified package file to unpack.
struct Input {
    std::filesystem::path path; ///< the verified package file in the cache
    std::string sha256;         ///< its SHA-256 (keys the cached form)
    std::string label;          ///< "openjdk-17-jre-headless 17.0.13+11-2", for messages
    Limits limits;
    /// The distro's own checksum of the package file that its index gives (Alpine: `C:`),
    /// checked by the reader; empty: none.
    std::string identity{};
};

/// The package file as a reader streams it. Every byte read is hashed, so that verify() tells,
/// without a second pass, whether the file is the one the verified index names: a package
/// file from the cache enters an image only once its hash was checked in this run.
class PackageFile {
public:
    /// Opens `input.path`; throws naming the package and the file.
    explicit PackageFile(const Input& input);

    /// Fills `buffer` with the next bytes of the file; returns how many (0 at its end).
    std::size_t read(std::span<char> buffer);

    /// The file's size in bytes (its compressed size, for the ratio bound).
    [[nodiscard]] std::uint64_t size() const;

    /// Reads what the reader left unread and compares the SHA-256 of the whole file with
    /// `input.sha256`: a core::CacheDamageError naming the package and the file when they
    /// differ.
    void verify();

private:
    const Input& m_input;
    core::Fd m_fd;
    core::Hasher m_hasher;
};

/// Where a reader puts the bytes of a package's regular files: the content pack being written.
/// It hashes each file (SHA-256 and MD5) and holds the package to its limits.
class PackWriter {
public:
    /// Writes into `file` for `package` (whose unpacked_bytes it counts) read from `input`.
    PackWriter(core::AtomicFile& file, const Input& input, UnpackedPackage& package);

    /// Fills `buffer` with the next bytes of the current file; returns how many (0 at its end).
    /// Throws, naming the file, when the package data cannot be read.
    using Source = std::function<std::size_t(std::span<char> buffer)>;

    /// Appends the regular file `entry` (its offset, size and hashes are set here) from
    /// `source`. `compressed` is the size of the compressed data it comes from, for the ratio
    /// bound (0: unknown). A broken limit is an UnsafeContentError naming the package.
    void add_file(RawEntry& entry, std::uint64_t compressed, const Source& source);

private:
    void check_limits(std::uint64_t compressed) const;

    core::AtomicFile& m_file;
    const Input& m_input;
    UnpackedPackage& m_package;
    std::vector<char> m_buffer;
};

/// A distro's package format.
class Reader {
public:
    virtual ~Reader() = default;
    /// Reads the package file of `input` by streaming it from `file` (never by its path): fills
    /// `package`'s metadata and entries and puts every regular file's bytes through `pack`. A
    /// malformed package or a truncated stream is an Error naming the label.
    virtual void read(const Input& input, PackageFile& file, PackWriter& pack,
                      UnpackedPackage& package) const = 0;
};

/// The package's content: the cached form when it is there and its index's digest checks out,
/// else read with `reader` into a new content pack in the cache (the pack first, then the
/// index that names it), the package file hashed as it is read. A damaged package file, or a
/// damaged cached form, is a core::CacheDamageError naming it.
[[nodiscard]] UnpackedPackage unpack(const Input& input, const Reader& reader,
                                     const core::Cache& cache);

/// unpack() for many packages, `jobs` at a time; results in input order. A damaged cached
/// form is dropped and made again, with a warning. A damaged package file is dropped from the
/// cache with a warning: its index goes into `damaged` (its result stays empty) for the caller
/// to fetch it again, or, without `damaged`, the error is rethrown. The first other failure
/// stops the others and is rethrown.
[[nodiscard]] std::vector<UnpackedPackage>
unpack_all(const std::vector<Input>& inputs, const Reader& reader, const core::Cache& cache,
           int jobs, core::Reporter& reporter, std::vector<std::size_t>* damaged = nullptr);

/// Removes the cached form of `input` (its index and content pack), found damaged.
void drop_unpacked(const Input& input, const core::Cache& cache);

} // namespace distill::unpack
