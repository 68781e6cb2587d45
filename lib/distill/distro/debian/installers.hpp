#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <distill/distro/distro.hpp>

namespace distill::distro::debian {

// Some packages exist only for their maintainer scripts: ttf-mscorefonts-installer ships
// checksums and downloads the fonts in its postinst, firmware-b43-installer fetches firmware,
// libdvd-pkg builds a library. distill runs no maintainer script, so an image with such a
// package lacks what the script would have made. The signs that give them away are data (see
// installers.cpp), documented in manifests/README.md, "Packages made at install time".

/// Why the index makes the package look like one made at install time ("it depends on wget
/// and calls itself an installer"), or nothing.
[[nodiscard]] std::optional<std::string> installer_by_index(const IndexFacts& facts);

/// What the package itself holds that the signs look at.
struct PackageFacts {
    std::string_view control; ///< the control file
    /// The maintainer scripts that run at install time (preinst, config, postinst) by name.
    const std::map<std::string, std::string>& scripts;
    std::span<const std::string> paths; ///< what it ships, as its data archive names them
};

/// Why the package's content is made by its maintainer scripts at install time ("its postinst
/// runs wget"), or nothing. Firmer than installer_by_index(): it reads the scripts.
[[nodiscard]] std::optional<std::string> installer_by_package(const PackageFacts& facts);

/// The maintainer scripts that run when a package is installed: the ones whose text
/// installer_by_package() reads.
[[nodiscard]] std::span<const std::string_view> install_scripts();

/// The package names a Depends-style field names: every alternative, without versions and
/// architecture qualifiers ("a (>= 1) | b:any, c" gives a, b, c).
[[nodiscard]] std::vector<std::string> dependency_names(std::string_view field);

} // namespace distill::distro::debian
