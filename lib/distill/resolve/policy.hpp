#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include <distill/manifest/manifest.hpp>

namespace distill::resolve {

/// One entry of the exclusion policy: packages matching `pattern` (a glob over package
/// names) are never installed; dependencies on them are satisfied without them.
struct ExclusionRule {
    std::string pattern; ///< glob, e.g. "perl-modules-*"
    std::string reason;  ///< shown by `distill plan`, e.g. "shell"
    /// Rules of one family leave the policy together when the manifest asks for a package of
    /// the family: asking for python3 brings its interpreter packages back.
    std::string family;
};

/// Which packages an image never gets. The default is distroless: shells, interpreters not
/// asked for, package managers and their helpers, init and system tools, network tools.
class ExclusionPolicy {
public:
    /// An empty policy.
    ExclusionPolicy() = default;
    /// The distroless default for `distro`.
    [[nodiscard]] static ExclusionPolicy distroless(manifest::Distro distro);
    /// The default for a manifest: distroless, plus its `exclude`, minus its `allow`, minus the
    /// families of the packages it asks for.
    [[nodiscard]] static ExclusionPolicy for_manifest(const manifest::Manifest& manifest);

    /// Adds a rule.
    void add(ExclusionRule rule);
    /// Exempts names matching `pattern` from every rule.
    void allow(const std::string& pattern);
    /// Drops every rule of the families that `name` belongs to, and exempts `name` itself.
    void request(const std::string& name);

    /// Why `name` is excluded, or nullopt if it is not.
    [[nodiscard]] std::optional<std::string> reason_for(const std::string& name) const;
    /// The subset of `names` that is excluded.
    [[nodiscard]] std::set<std::string> excluded_among(const std::vector<std::string>& names) const;
    [[nodiscard]] const std::vector<ExclusionRule>& rules() const noexcept { return m_rules; }

private:
    std::vector<ExclusionRule> m_rules;
    std::vector<std::string> m_allowed;
};

/// Whether `name` matches the glob `pattern` (*, ?, [...]).
[[nodiscard]] bool glob_match(const std::string& pattern, const std::string& name);

} // namespace distill::resolve
