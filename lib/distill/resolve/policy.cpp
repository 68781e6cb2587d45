#include <algorithm>
#include <fnmatch.h>

#include <fmt/format.h>

#include <distill/resolve/policy.hpp>

namespace distill::resolve {
namespace {

struct DefaultRule {
    const char* pattern;
    const char* reason;
    const char* family; ///< nullptr: the pattern is its own family
};

constexpr const char* k_shell = "shell";
constexpr const char* k_interpreter = "interpreter not asked for";
constexpr const char* k_package_manager = "package manager or maintainer-script helper";
constexpr const char* k_system_tool = "init or system tool";
constexpr const char* k_network_tool = "network tool";
constexpr const char* k_generated = "distill generates what its maintainer scripts would";

// The Debian distroless policy. Libraries stay allowed: what goes is every program an
// attacker could use after getting code execution, and every package whose only job is to
// run maintainer scripts or manage the system.
constexpr DefaultRule k_debian_rules[] = {
    // Shells.
    {"bash", k_shell, nullptr},
    {"dash", k_shell, nullptr},
    {"busybox", k_shell, "busybox"},
    {"busybox-static", k_shell, "busybox"},
    {"zsh", k_shell, nullptr},
    {"ksh", k_shell, nullptr},
    {"mksh", k_shell, nullptr},
    {"tcsh", k_shell, nullptr},
    {"csh", k_shell, nullptr},
    {"fish", k_shell, nullptr},
    {"yash", k_shell, nullptr},
    {"posh", k_shell, nullptr},
    // Interpreters, by family: asking for one member brings the family back.
    {"perl", k_interpreter, "perl"},
    {"perl-base", k_interpreter, "perl"},
    {"perl-modules-*", k_interpreter, "perl"},
    {"libperl5*", k_interpreter, "perl"},
    {"python3", k_interpreter, "python3"},
    {"python3-minimal", k_interpreter, "python3"},
    {"python3.*", k_interpreter, "python3"},
    {"libpython3*", k_interpreter, "python3"},
    {"mawk", k_interpreter, "awk"},
    {"gawk", k_interpreter, "awk"},
    {"original-awk", k_interpreter, "awk"},
    {"tcl", k_interpreter, "tcl"},
    {"tcl8.*", k_interpreter, "tcl"},
    {"lua5.*", k_interpreter, "lua"},
    {"ruby", k_interpreter, "ruby"},
    {"ruby3.*", k_interpreter, "ruby"},
    {"nodejs", k_interpreter, "nodejs"},
    {"php*-cli", k_interpreter, "php"},
    // Package managers and maintainer-script helpers.
    {"dpkg", k_package_manager, nullptr},
    {"apt", k_package_manager, nullptr},
    {"apt-utils", k_package_manager, nullptr},
    {"debconf", k_package_manager, nullptr},
    {"debconf-i18n", k_package_manager, nullptr},
    {"cdebconf", k_package_manager, nullptr},
    {"ucf", k_package_manager, nullptr},
    {"install-info", k_package_manager, nullptr},
    {"debianutils", k_package_manager, nullptr},
    {"adduser", k_package_manager, nullptr},
    {"passwd", k_package_manager, nullptr},
    {"login", k_package_manager, nullptr},
    {"sensible-utils", k_package_manager, nullptr},
    {"init-system-helpers", k_package_manager, nullptr},
    {"lsb-base", k_package_manager, nullptr},
    {"sysvinit-utils", k_package_manager, nullptr},
    // Init and system tools.
    {"systemd", k_system_tool, nullptr},
    {"systemd-sysv", k_system_tool, nullptr},
    {"sysvinit-core", k_system_tool, nullptr},
    {"init", k_system_tool, nullptr},
    {"runit", k_system_tool, nullptr},
    {"openrc", k_system_tool, nullptr},
    {"udev", k_system_tool, nullptr},
    {"util-linux", k_system_tool, nullptr},
    {"util-linux-extra", k_system_tool, nullptr},
    {"mount", k_system_tool, nullptr},
    {"bsdutils", k_system_tool, nullptr},
    {"procps", k_system_tool, nullptr},
    {"psmisc", k_system_tool, nullptr},
    {"coreutils", k_system_tool, nullptr},
    {"findutils", k_system_tool, nullptr},
    {"grep", k_system_tool, nullptr},
    {"sed", k_system_tool, nullptr},
    {"tar", k_system_tool, nullptr},
    {"cpio", k_system_tool, nullptr},
    {"gzip", k_system_tool, nullptr},
    {"bzip2", k_system_tool, nullptr},
    {"xz-utils", k_system_tool, nullptr},
    {"zstd", k_system_tool, nullptr},
    {"diffutils", k_system_tool, nullptr},
    {"hostname", k_system_tool, nullptr},
    {"ncurses-bin", k_system_tool, nullptr},
    {"kmod", k_system_tool, nullptr},
    {"e2fsprogs", k_system_tool, nullptr},
    {"logsave", k_system_tool, nullptr},
    {"libc-bin", k_system_tool, nullptr},
    {"openssl", "the openssl command line tool", nullptr},
    // Network tools.
    {"curl", k_network_tool, nullptr},
    {"wget", k_network_tool, nullptr},
    {"netcat-openbsd", k_network_tool, nullptr},
    {"netcat-traditional", k_network_tool, nullptr},
    {"socat", k_network_tool, nullptr},
    {"openssh-client", k_network_tool, nullptr},
    {"telnet", k_network_tool, nullptr},
    {"iproute2", k_network_tool, nullptr},
    {"iputils-ping", k_network_tool, nullptr},
    {"net-tools", k_network_tool, nullptr},
    // Helpers whose effect distill produces declaratively (truststore, alternatives).
    {"java-common", k_generated, nullptr},
    {"ca-certificates-java", k_generated, nullptr},
};

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
    if (distro == manifest::Distro::debian) {
        for (const auto& rule : k_debian_rules) {
            policy.add(ExclusionRule{rule.pattern, rule.reason,
                                     rule.family != nullptr ? rule.family : rule.pattern});
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
