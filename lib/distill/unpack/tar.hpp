#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <distill/core/archive.hpp>
#include <distill/unpack/package.hpp>
#include <distill/unpack/unpack.hpp>

// The tar entries of a package, read the same way whatever format carries them (a .deb's
// data.tar, an .apk's gzip members): the rules every reader applies to what it takes from a
// package's archives.
namespace distill::unpack {

/// What an entry's header says it is (a hard link when it names a link target).
[[nodiscard]] EntryType entry_type(archive_entry* entry);

/// An entry's path. libarchive gives none for an entry without a name or with one it cannot
/// convert: an Error naming the package (`label`) and the archive (`member`).
[[nodiscard]] std::string entry_path(archive_entry* entry, std::string_view label,
                                     std::string_view member);

/// Refuses a name the package database could not list truthfully: a newline would add a line
/// to a file list, and no other control character is ever needed in a name. An
/// UnsafeContentError naming the package, the archive and the name.
void check_entry_name(std::string_view label, std::string_view member, std::string_view name);

/// "./usr/bin/x" and "usr/bin/x" name the same control file: the path without leading "./".
[[nodiscard]] std::string_view strip_dot_slash(std::string_view path);

/// The bytes of the current entry of `tar` (a control file), at most `max` of them: a bigger
/// entry is an Error naming the archive (its origin) and the entry, before anything is read.
[[nodiscard]] std::string read_entry_text(core::TarStream& tar, archive_entry* entry,
                                          std::string_view name, std::uint64_t max);

/// How a reader reads its package's data archive.
struct DataArchive {
    std::string_view member;  ///< its name in messages: "data.tar"
    std::string_view manager; ///< the package manager whose rules apply: "dpkg"
    /// The package file's compressed size, for the ratio bound (0: unknown).
    std::uint64_t compressed = 0;
    /// Called for each entry before it is taken; it throws to refuse one. May be empty.
    std::function<void(const RawEntry& entry)> check;
};

/// Reads every entry of a package's data archive `tar` into `package.entries`, each regular
/// file's bytes through `pack`: names with control characters, sparse files, more entries than
/// the limits allow and a file shorter than its header says are refused, naming the package and
/// the path. Checks for cancellation between entries.
void read_data_archive(core::TarStream& tar, const DataArchive& archive, const Input& input,
                       PackWriter& pack, UnpackedPackage& package);

} // namespace distill::unpack
