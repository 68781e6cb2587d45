#pragma once

#include <string_view>
#include <vector>

#include <distill/distro/distro.hpp>

namespace distill::distro::alpine {

/// Where apk keeps its installed database, relative to the root.
inline constexpr std::string_view k_installed = "lib/apk/db/installed";

/// Writes the installed database apk and the scanners read: lib/apk/db/installed, one record
/// per package of the tree (from its .PKGINFO and the index's checksum) listing exactly the
/// files the image holds, with their owners, modes and `Z:` checksums; etc/apk/world (the
/// packages the manifest asked for), an empty etc/apk/repositories and etc/apk/keys. Returns
/// the number of packages.
std::size_t write_installed_database(unpack::Tree& tree);

/// The packages an installed database lists.
[[nodiscard]] std::vector<InstalledPackage> read_installed_database(std::string_view text);

} // namespace distill::distro::alpine
