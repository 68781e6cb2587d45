#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <distill/unpack/tree.hpp>

namespace distill::distro {

/// One family of alternatives, as a distro's maintainer scripts register them: every
/// executable matching `tools` gets a link in `link_dir` through /etc/alternatives, named as
/// the tool. Where several packages offer a tool, the one whose path sorts last wins (for
/// JVMs: the newest version), as the higher priority would.
struct AlternativesRule {
    std::string_view tools;    ///< glob over image paths
    std::string_view link_dir; ///< where the public links go
};

/// Makes the links `rules` call for in the tree, as update-alternatives would: link ->
/// /etc/alternatives/<name> -> the tool, except where a package ships the command itself.
/// Returns "link -> target" for each.
std::vector<std::string> add_alternatives(unpack::Tree& tree,
                                          std::span<const AlternativesRule> rules);

} // namespace distill::distro
