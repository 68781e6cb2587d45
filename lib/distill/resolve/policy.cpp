#include <algorithm>
#include <fnmatch.h>

#include <fmt/format.h>

#include <distill/distro/distro.hpp>
#include <distill/resolve/policy.hpp>

namespace distill::resolve {
namespace {

bool has_glob(const std::string& pattern) {
    return pattern.find_first_of("*?[") != std::string::npos;
}

} // namespace

bool glob_match(const std::string& pattern, const std::string& name) {
    if (!has_glob(pattern)) {
        return pattern == name;
    }
    return ::fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

ExclusionPolicy ExclusionPolicy::distroless(manifest::Distro distro) {
    ExclusionPolicy policy;
    if (const auto* implementation = distro::find(distro)) {
        for (const auto& rule : implementation->exclusion_rules()) {
            policy.add(
                ExclusionRule{std::string(rule.pattern), std::string(rule.reason),
                              std::string(rule.family.empty() ? rule.pattern : rule.family)});
        }
    }
    return policy;
}

ExclusionPolicy ExclusionPolicy::for_manifest(const manifest::Manifest& manifest) {
    auto policy = distroless(manifest.distro);
    for (const auto& request : manifest.packages) {
        policy.request(request.name);
    }
    for (const auto& allowed : manifest.allow) {
        policy.allow(allowed.value);
    }
    for (const auto& excluded : manifest.exclude) {
        policy.add(ExclusionRule{excluded.value,
                                 fmt::format("excluded by the manifest ({})", excluded.where.str()),
                                 "manifest:" + excluded.value});
    }
    return policy;
}

void ExclusionPolicy::add(ExclusionRule rule) {
    m_rules.push_back(std::move(rule));
}

void ExclusionPolicy::allow(const std::string& pattern) {
    m_allowed.push_back(pattern);
}

void ExclusionPolicy::request(const std::string& name) {
    std::set<std::string> families;
    for (const auto& rule : m_rules) {
        if (glob_match(rule.pattern, name)) {
            families.insert(rule.family);
        }
    }
    std::erase_if(m_rules, [&](const ExclusionRule& rule) {
        return families.contains(rule.family) && !rule.family.starts_with("manifest:");
    });
    m_allowed.push_back(name);
}

std::optional<std::string> ExclusionPolicy::reason_for(const std::string& name) const {
    const auto allowed = std::any_of(m_allowed.begin(), m_allowed.end(),
                                     [&](const std::string& p) { return glob_match(p, name); });
    if (allowed) {
        return std::nullopt;
    }
    for (const auto& rule : m_rules) {
        if (glob_match(rule.pattern, name)) {
            return rule.reason;
        }
    }
    return std::nullopt;
}

std::set<std::string> ExclusionPolicy::excluded_among(const std::vector<std::string>& names) const {
    // Called with every name in the archive (~60,000): a cheap first filter on the literal
    // patterns and on the literal prefix of the globs keeps fnmatch off most names.
    std::set<std::string> literal;
    std::vector<std::string> prefixes;
    for (const auto& rule : m_rules) {
        if (has_glob(rule.pattern)) {
            prefixes.push_back(rule.pattern.substr(0, rule.pattern.find_first_of("*?[")));
        } else {
            literal.insert(rule.pattern);
        }
    }
    std::set<std::string> excluded;
    for (const auto& name : names) {
        const bool candidate =
            literal.contains(name) ||
            std::any_of(prefixes.begin(), prefixes.end(),
                        [&](const std::string& prefix) { return name.starts_with(prefix); });
        if (candidate && reason_for(name)) {
            excluded.insert(name);
        }
    }
    return excluded;
}

} // namespace distill::resolve
