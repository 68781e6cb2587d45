#include <map>

#include <fmt/format.h>

#include <distill/assemble/assemble.hpp>
#include <distill/unpack/path_policy.hpp>

namespace distill::assemble {
namespace {

/// One family of alternatives: every executable matching `tools` gets a link in `link_dir`
/// through /etc/alternatives, named as the tool. Where several packages offer a tool, the one
/// whose path sorts last wins (for JVMs: the newest version), as the higher priority would.
struct AlternativesRule {
    std::string_view tools;    ///< glob over image paths
    std::string_view link_dir; ///< where the public links go
};

// What openjdk-*-jre-headless's postinst registers with update-alternatives: the tools in the
// JVM's bin/ directory, linked from /usr/bin.
constexpr AlternativesRule k_rules[] = {
    {"/usr/lib/jvm/*/bin/*", "usr/bin"},
};

} // namespace

std::vector<std::string> add_alternatives(unpack::Tree& tree) {
    std::map<std::string, std::string> chosen; // link -> target, the last match wins
    for (const auto& rule : k_rules) {
        for (const auto& [path, entry] : tree.entries()) {
            const bool executable = (entry.type == unpack::EntryType::file ||
                                     entry.type == unpack::EntryType::hardlink) &&
                                    (entry.mode & 0111U) != 0;
            if (executable && unpack::path_glob_match(rule.tools, "/" + path)) {
                const auto name = path.substr(path.rfind('/') + 1);
                chosen[fmt::format("{}/{}", rule.link_dir, name)] = "/" + path;
            }
        }
    }
    std::vector<std::string> made;
    for (const auto& [link, target] : chosen) {
        const auto name = link.substr(link.rfind('/') + 1);
        if (tree.find(link) != nullptr) {
            continue; // a package ships the command itself
        }
        tree.put_symlink("etc/alternatives/" + name, target);
        tree.put_symlink(link, "/etc/alternatives/" + name);
        made.push_back(fmt::format("/{} -> {}", link, target));
    }
    return made;
}

} // namespace distill::assemble
