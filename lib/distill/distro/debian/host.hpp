#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace distill::distro::debian {

/// One "deb" entry of the host's apt configuration (one-line or deb822 format).
struct AptEntry {
    std::vector<std::string> uris;
    std::vector<std::string> suites;
    std::vector<std::string> components;
    std::string signed_by;
};

/// Reads sources.list and sources.list.d/*.list and *.sources below `etc_apt`; "deb-src"
/// entries and disabled ones (Enabled: no) are left out. Unreadable files are skipped.
[[nodiscard]] std::vector<AptEntry> read_apt_sources(const std::filesystem::path& etc_apt);

/// The mirrors a manifest without explicit source URLs uses.
struct Mirrors {
    std::string archive;  ///< for <release> and <release>-updates
    std::string security; ///< for <release>-security
};

/// DISTILL_DEBIAN_MIRROR and DISTILL_DEBIAN_SECURITY_MIRROR when set; otherwise the host's apt
/// sources (the entry for `release` if there is one, else any Debian entry); the security
/// mirror falls back to the archive URL with "-security" appended, Debian's own layout.
/// Throws when no archive mirror can be found, saying how to configure one.
[[nodiscard]] Mirrors default_mirrors(std::string_view release,
                                      const std::filesystem::path& etc_apt = "/etc/apt");

/// The host's Debian archive keyring.
inline constexpr std::string_view k_default_keyring =
    "/usr/share/keyrings/debian-archive-keyring.gpg";

} // namespace distill::distro::debian
