#include <map>

#include <fmt/format.h>

#include <distill/distro/alternatives.hpp>
#include <distill/unpack/path_policy.hpp>

namespace distill::distro {

std::vector<std::string> add_alternatives(unpack::Tree& tree,
                                          std::span<const AlternativesRule> rules) {
    std::map<std::string, std::string> chosen; // link -> target, the last match wins
    for (const auto& rule : rules) {
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
        const unpack::Tree::Explaining why(
            tree, fmt::format("the alternatives link of {} to {}, as update-alternatives would "
                              "make it",
                              name, target));
        tree.put_symlink("etc/alternatives/" + name, target);
        tree.put_symlink(link, "/etc/alternatives/" + name);
        made.push_back(fmt::format("/{} -> {}", link, target));
    }
    return made;
}

} // namespace distill::distro
