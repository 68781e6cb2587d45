#pragma once

#include <optional>
#include <string>
#include <string_view>

// Licences as an SBOM states them: SPDX licence expressions, made from what a package declares
// (Debian's machine-readable copyright file, Alpine's `license`), or nothing where that does not
// translate exactly: a wrong licence in an SBOM is worse than NOASSERTION.
namespace distill::sbom {

/// The SPDX licence expression of a Debian machine-readable copyright file (copyright-format
/// 1.0): every Files paragraph's licence, Debian's short names translated to SPDX identifiers
/// ("GPL-2+" is GPL-2.0-or-later, "Expat" is MIT, "with GCC-exception-3.1 exception" a WITH),
/// distinct ones joined with AND. nullopt when the file is not machine-readable or names a
/// licence that has no SPDX identifier (public-domain, a custom one): the SBOM then says
/// NOASSERTION. Bounded: a file of more than 1 MiB or 4,096 paragraphs gives nullopt.
[[nodiscard]] std::optional<std::string> license_from_copyright(std::string_view copyright);

/// `expression` when it is a valid SPDX licence expression of identifiers distill knows
/// (Alpine's packages declare SPDX expressions, not always valid ones), normalised to SPDX's
/// spelling of each identifier; nullopt otherwise.
[[nodiscard]] std::optional<std::string> spdx_expression(std::string_view expression);

} // namespace distill::sbom
