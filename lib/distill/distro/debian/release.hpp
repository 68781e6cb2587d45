#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace distill::distro::debian {

/// A file a Release file vouches for: its path below dists/<suite>/, size and SHA-256.
struct ReleaseEntry {
    std::string path;
    std::uint64_t size = 0;
    std::string sha256;
};

/// The fields of a Release (or verified InRelease) file that distill uses.
struct Release {
    std::string origin;
    std::string label;
    std::string suite;
    std::string codename;
    std::string version;
    std::optional<std::chrono::sys_seconds> date;
    std::optional<std::chrono::sys_seconds> valid_until;
    std::vector<std::string> architectures;
    std::vector<std::string> components;
    bool acquire_by_hash = false;
    /// "No-Support-for-Architecture-all: Packages": binary-all packages are folded into the
    /// per-arch indexes, so binary-all/Packages must not be read as well.
    bool all_in_arch_indexes = false;
    std::vector<ReleaseEntry> entries; ///< from the SHA256 field

    /// The entry for `path`, or nullptr.
    [[nodiscard]] const ReleaseEntry* find(std::string_view path) const;
    /// Whether `name` is the suite or the codename.
    [[nodiscard]] bool names(std::string_view name) const;
};

/// Parses Release text (the signed part of InRelease). Throws ControlError naming
/// `origin` when it is malformed or has no SHA256 list.
[[nodiscard]] Release parse_release(std::string_view text, std::string_view origin);

/// Parses an RFC 2822 date as Release files write it ("Sat, 11 Jul 2026 10:16:37 UTC",
/// also with a numeric zone like +0000). Independent of the process locale and TZ.
[[nodiscard]] std::optional<std::chrono::sys_seconds> parse_release_date(std::string_view text);

/// Formats a time as Release files write it, in UTC.
[[nodiscard]] std::string format_release_date(std::chrono::sys_seconds time);

} // namespace distill::distro::debian
