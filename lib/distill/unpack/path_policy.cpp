#include <fnmatch.h>

#include <distill/unpack/path_policy.hpp>

namespace distill::unpack {
namespace {

std::vector<std::string_view> components(std::string_view path) {
    std::vector<std::string_view> out;
    while (!path.empty()) {
        const auto slash = path.find('/');
        const auto part = path.substr(0, slash);
        if (!part.empty()) {
            out.push_back(part);
        }
        if (slash == std::string_view::npos) {
            break;
        }
        path.remove_prefix(slash + 1);
    }
    return out;
}

bool match_from(const std::vector<std::string_view>& pattern, std::size_t p,
                const std::vector<std::string_view>& path, std::size_t i) {
    if (p == pattern.size()) {
        return i == path.size();
    }
    if (pattern[p] == "**") {
        // Zero components, or one more and try again.
        for (std::size_t j = i; j <= path.size(); ++j) {
            if (match_from(pattern, p + 1, path, j)) {
                return true;
            }
        }
        return false;
    }
    if (i == path.size()) {
        return false;
    }
    // fnmatch handles *, ? and [...] within one component; components hold no '/'.
    const std::string part_pattern(pattern[p]);
    const std::string part(path[i]);
    return ::fnmatch(part_pattern.c_str(), part.c_str(), 0) == 0 &&
           match_from(pattern, p + 1, path, i + 1);
}

bool any_match(const std::vector<std::string>& patterns, std::string_view path) {
    for (const auto& pattern : patterns) {
        if (path_glob_match(pattern, path)) {
            return true;
        }
    }
    return false;
}

std::vector<std::string> values(const std::vector<manifest::Located>& located) {
    std::vector<std::string> out;
    out.reserve(located.size());
    for (const auto& item : located) {
        out.push_back(item.value);
    }
    return out;
}

} // namespace

bool path_glob_match(std::string_view pattern, std::string_view path) {
    return match_from(components(pattern), 0, components(path), 0);
}

PathPolicy PathPolicy::for_manifest(const manifest::Manifest& manifest) {
    PathPolicy policy;
    policy.m_drop = {"/usr/share/doc/**", "/usr/share/man/**", "/usr/share/info/**",
                     "/usr/share/locale/**", "/usr/share/lintian/**"};
    policy.m_keep = {"/usr/share/doc/*/copyright"};
    policy.m_include = values(manifest.paths.include);
    policy.m_exclude = values(manifest.paths.exclude);
    policy.m_setuid = values(manifest.paths.setuid);
    return policy;
}

bool PathPolicy::keeps(std::string_view path) const {
    if (any_match(m_include, path)) {
        return true;
    }
    if (any_match(m_exclude, path)) {
        return false;
    }
    return any_match(m_keep, path) || !any_match(m_drop, path);
}

bool PathPolicy::keeps_setuid(std::string_view path) const {
    return any_match(m_setuid, path);
}

} // namespace distill::unpack
