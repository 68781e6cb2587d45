#include <distill/distro/alpine/policy.hpp>

namespace distill::distro::alpine {
namespace {

constexpr std::string_view k_shell = "shell";
constexpr std::string_view k_interpreter = "interpreter not asked for";
constexpr std::string_view k_package_manager = "package manager";
constexpr std::string_view k_system_tool = "init or system tool";

// Alpine's base is busybox: its shell, its applets and the links to them are one family, so
// asking for busybox (a debug image) brings them back together. Libraries stay allowed.
constexpr PolicyRule k_rules[] = {
    // Shells and their providers (/bin/sh).
    {"busybox", k_shell, "busybox"},
    {"busybox-binsh", k_shell, "busybox"},
    {"busybox-static", k_shell, "busybox"},
    {"busybox-suid", k_shell, "busybox"},
    {"busybox-extras", k_shell, "busybox"},
    {"busybox-openrc", k_shell, "busybox"},
    {"busybox-mdev-openrc", k_shell, "busybox"},
    {"bash", k_shell},
    {"dash", k_shell},
    {"dash-binsh", k_shell},
    {"yash", k_shell},
    {"yash-binsh", k_shell},
    {"zsh", k_shell},
    {"mksh", k_shell},
    {"loksh", k_shell},
    {"oksh", k_shell},
    {"tcsh", k_shell},
    {"fish", k_shell},
    // Interpreters, by family: asking for one member brings the family back.
    {"perl", k_interpreter, "perl"},
    {"perl-*", k_interpreter, "perl"},
    {"lua5.*", k_interpreter, "lua"},
    {"tcl", k_interpreter, "tcl"},
    // The package manager and what only it needs.
    {"apk-tools", k_package_manager},
    {"apk-tools-static", k_package_manager},
    {"alpine-conf", k_package_manager},
    {"alpine-base", k_package_manager},
    // Init and system tools.
    {"openrc", k_system_tool, "openrc"},
    {"openrc-*", k_system_tool, "openrc"},
    {"*-openrc", k_system_tool, "openrc"},
    {"mdev-conf", k_system_tool},
    {"ifupdown-ng", k_system_tool},
    {"musl-utils", k_system_tool},
    {"libc-utils", k_system_tool},
    {"scanelf", k_system_tool},
    {"ssl_client", k_system_tool},
};

} // namespace

std::span<const PolicyRule> exclusion_rules() {
    return k_rules;
}

} // namespace distill::distro::alpine
