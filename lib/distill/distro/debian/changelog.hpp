#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <distill/distro/distro.hpp>

namespace distill::distro::debian {

/// One entry of a Debian changelog (debian/changelog, shipped as changelog.Debian.gz).
struct ChangelogEntry {
    std::string source;       ///< the source package named in the entry's first line
    std::string version;      ///< the version it describes
    std::string distribution; ///< e.g. bookworm-security
    std::string text;         ///< the change lines between the first line and the trailer
};

/// Parses a changelog: entries start with "source (version) distribution; urgency=..." and end
/// with the " -- maintainer  date" trailer. Lines outside entries are skipped.
[[nodiscard]] std::vector<ChangelogEntry> parse_changelog(std::string_view text);

/// The fixes of the entries newer than `older` and not newer than `newer` (dpkg's ordering).
[[nodiscard]] Fixes fixes_between(const std::vector<ChangelogEntry>& entries,
                                  std::string_view older, std::string_view newer);

} // namespace distill::distro::debian
