#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace distill::distro::debian {

/// A Debian package version, [epoch:]upstream_version[-debian_revision], with dpkg's syntax
/// rules and ordering. (libsolv's own Debian comparison orders an absent revision below "-0",
/// which dpkg does not; versions shown to users and compared in diffs use this one.)
class Version {
public:
    /// Parses `text` as dpkg's parseversion() does, treating its warnings (an upstream part
    /// that does not start with a digit, bad characters) as errors. Returns nullopt and sets
    /// `why` (if given) to a short reason when the text is not a valid version.
    [[nodiscard]] static std::optional<Version> parse(std::string_view text,
                                                      std::string* why = nullptr);

    [[nodiscard]] std::uint32_t epoch() const noexcept { return m_epoch; }
    [[nodiscard]] const std::string& upstream() const noexcept { return m_upstream; }
    /// The Debian revision; empty when the version has none.
    [[nodiscard]] const std::string& revision() const noexcept { return m_revision; }

    /// The version as dpkg prints it: the epoch when non-zero or when the upstream version has
    /// a colon (which would otherwise read as the epoch).
    [[nodiscard]] std::string str() const;

    /// dpkg's ordering: epochs numerically, then upstream and revision with the
    /// letters-before-non-letters, '~'-sorts-first rule; an absent revision equals "0".
    friend std::strong_ordering operator<=>(const Version& a, const Version& b);
    friend bool operator==(const Version& a, const Version& b) { return (a <=> b) == 0; }

private:
    std::uint32_t m_epoch = 0;
    std::string m_upstream;
    std::string m_revision;
};

/// Compares two version strings with dpkg's ordering without validating them (as
/// `dpkg --compare-versions` does for well-formed input): negative, zero or positive.
[[nodiscard]] int compare_versions(std::string_view a, std::string_view b);

} // namespace distill::distro::debian
