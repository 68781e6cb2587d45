#include <distill/distro/debian/policy.hpp>

namespace distill::distro::debian {
namespace {

constexpr std::string_view k_shell = "shell";
constexpr std::string_view k_interpreter = "interpreter not asked for";
constexpr std::string_view k_package_manager = "package manager or maintainer-script helper";
constexpr std::string_view k_system_tool = "init or system tool";
constexpr std::string_view k_network_tool = "network tool";
constexpr std::string_view k_generated = "distill generates what its maintainer scripts would";

// The Debian distroless policy. Libraries stay allowed: what goes is every program an
// attacker could use after getting code execution, and every package whose only job is to
// run maintainer scripts or manage the system.
constexpr PolicyRule k_rules[] = {
    // Shells.
    {"bash", k_shell},
    {"dash", k_shell},
    {"busybox", k_shell, "busybox"},
    {"busybox-static", k_shell, "busybox"},
    {"zsh", k_shell},
    {"ksh", k_shell},
    {"mksh", k_shell},
    {"tcsh", k_shell},
    {"csh", k_shell},
    {"fish", k_shell},
    {"yash", k_shell},
    {"posh", k_shell},
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
    {"dpkg", k_package_manager},
    {"apt", k_package_manager},
    {"apt-utils", k_package_manager},
    {"debconf", k_package_manager},
    {"debconf-i18n", k_package_manager},
    {"cdebconf", k_package_manager},
    {"ucf", k_package_manager},
    {"install-info", k_package_manager},
    {"debianutils", k_package_manager},
    {"adduser", k_package_manager},
    {"passwd", k_package_manager},
    {"login", k_package_manager},
    {"sensible-utils", k_package_manager},
    {"init-system-helpers", k_package_manager},
    {"lsb-base", k_package_manager},
    {"sysvinit-utils", k_package_manager},
    // Init and system tools.
    {"systemd", k_system_tool},
    {"systemd-sysv", k_system_tool},
    {"sysvinit-core", k_system_tool},
    {"init", k_system_tool},
    {"runit", k_system_tool},
    {"openrc", k_system_tool},
    {"udev", k_system_tool},
    {"util-linux", k_system_tool},
    {"util-linux-extra", k_system_tool},
    {"mount", k_system_tool},
    {"bsdutils", k_system_tool},
    {"procps", k_system_tool},
    {"psmisc", k_system_tool},
    {"coreutils", k_system_tool},
    {"findutils", k_system_tool},
    {"grep", k_system_tool},
    {"sed", k_system_tool},
    {"tar", k_system_tool},
    {"cpio", k_system_tool},
    {"gzip", k_system_tool},
    {"bzip2", k_system_tool},
    {"xz-utils", k_system_tool},
    {"zstd", k_system_tool},
    {"diffutils", k_system_tool},
    {"hostname", k_system_tool},
    {"ncurses-bin", k_system_tool},
    {"kmod", k_system_tool},
    {"e2fsprogs", k_system_tool},
    {"logsave", k_system_tool},
    {"libc-bin", k_system_tool},
    {"openssl", "the openssl command line tool"},
    // Network tools.
    {"curl", k_network_tool},
    {"wget", k_network_tool},
    {"netcat-openbsd", k_network_tool},
    {"netcat-traditional", k_network_tool},
    {"socat", k_network_tool},
    {"openssh-client", k_network_tool},
    {"telnet", k_network_tool},
    {"iproute2", k_network_tool},
    {"iputils-ping", k_network_tool},
    {"net-tools", k_network_tool},
    // Helpers whose effect distill produces declaratively (truststore, alternatives).
    {"java-common", k_generated},
    {"ca-certificates-java", k_generated},
};

} // namespace

std::span<const PolicyRule> exclusion_rules() {
    return k_rules;
}

} // namespace distill::distro::debian
