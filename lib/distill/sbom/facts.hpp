#pragma once

#include <optional>
#include <string>

namespace distill::sbom {

/// What the SBOM says of a package beyond the plan's record: the distro reads it from the
/// package's own metadata (distro::Distro::package_facts()).
struct PackageFacts {
    std::string purl_type;      ///< "deb", "apk"
    std::string source_version; ///< its source package's version (the package's own if none)
    std::string supplier;       ///< the maintainer, "Name <address>"
    std::string homepage;
    std::optional<std::string> license; ///< an SPDX expression; nullopt: NOASSERTION
};

} // namespace distill::sbom
