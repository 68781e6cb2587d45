#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include <distill/distro/distro.hpp>
#include <distill/unpack/tree.hpp>

namespace distill::distro::debian {

/// Where dpkg keeps its status file, relative to the root.
inline constexpr std::string_view k_dpkg_status = "var/lib/dpkg/status";

/// /var/lib/dpkg/status with one stanza per package ("Status: install ok installed", and the
/// Conffiles that are present), and info/<pkg>.list and .md5sums naming exactly the paths of
/// each package that are in the image (as the package names them, so "/bin/ls" on a merged-/usr
/// image, as dpkg itself records it). Returns the number of packages.
std::size_t write_package_database(unpack::Tree& tree);

/// The packages a dpkg status file lists.
[[nodiscard]] std::vector<InstalledPackage> read_package_database(std::string_view status);

} // namespace distill::distro::debian
