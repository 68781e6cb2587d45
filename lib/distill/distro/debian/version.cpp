#include <cctype>
#include <charconv>

#include <climits>
#include <fmt/format.h>

#include <distill/core/text.hpp>
#include <distill/distro/debian/version.hpp>

namespace distill::distro::debian {
namespace {

bool is_digit(char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
}

bool is_alpha(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) != 0;
}

bool is_space(char c) {
    return std::isspace(static_cast<unsigned char>(c)) != 0;
}

/// The three parts of a version string, split as dpkg splits them: the epoch before the first
/// colon, the revision after the last hyphen.
struct Parts {
    std::string_view epoch; ///< empty when there is no colon
    bool has_epoch = false;
    std::string_view upstream;
    std::string_view revision;
    bool has_revision = false;
};

Parts split(std::string_view text) {
    Parts parts;
    if (const auto colon = text.find(':'); colon != std::string_view::npos) {
        parts.has_epoch = true;
        parts.epoch = text.substr(0, colon);
        text.remove_prefix(colon + 1);
    }
    if (const auto hyphen = text.rfind('-'); hyphen != std::string_view::npos) {
        parts.has_revision = true;
        parts.revision = text.substr(hyphen + 1);
        text = text.substr(0, hyphen);
    }
    parts.upstream = text;
    return parts;
}

/// A character's weight in dpkg's ordering of the non-digit runs: '~' before everything, even
/// the end of the string; letters before everything else.
int order(char c) {
    if (is_digit(c)) {
        return 0;
    }
    if (is_alpha(c)) {
        return static_cast<unsigned char>(c);
    }
    if (c == '~') {
        return -1;
    }
    if (c != '\0') {
        return static_cast<unsigned char>(c) + 256;
    }
    return 0;
}

/// dpkg's comparison of an upstream version or a revision: alternating non-digit runs
/// (compared character by character with order()) and digit runs (compared numerically).
int compare_part(std::string_view a, std::string_view b) {
    std::size_t i = 0;
    std::size_t j = 0;
    const auto at = [](std::string_view s, std::size_t k) {
        return k < s.size() ? s[k] : '\0';
    };
    while (i < a.size() || j < b.size()) {
        while ((i < a.size() && !is_digit(a[i])) || (j < b.size() && !is_digit(b[j]))) {
            const int ac = order(at(a, i));
            const int bc = order(at(b, j));
            if (ac != bc) {
                return ac - bc;
            }
            ++i;
            ++j;
        }
        while (at(a, i) == '0') {
            ++i;
        }
        while (at(b, j) == '0') {
            ++j;
        }
        int first_difference = 0;
        while (is_digit(at(a, i)) && is_digit(at(b, j))) {
            if (first_difference == 0) {
                first_difference = a[i] - b[j];
            }
            ++i;
            ++j;
        }
        if (is_digit(at(a, i))) {
            return 1;
        }
        if (is_digit(at(b, j))) {
            return -1;
        }
        if (first_difference != 0) {
            return first_difference;
        }
    }
    return 0;
}

int sign(int value) {
    return (value > 0) - (value < 0);
}

std::uint64_t lenient_epoch(std::string_view text) {
    std::uint64_t epoch = 0;
    std::from_chars(text.data(), text.data() + text.size(), epoch);
    return epoch;
}

} // namespace

std::optional<Version> Version::parse(std::string_view text, std::string* why) {
    const auto fail = [why](const char* reason) -> std::optional<Version> {
        if (why != nullptr) {
            *why = reason;
        }
        return std::nullopt;
    };
    text = core::trim(text);
    if (text.empty()) {
        return fail("version string is empty");
    }
    for (const char c : text) {
        if (is_space(c)) {
            return fail("version string has embedded spaces");
        }
    }
    const Parts parts = split(text);
    Version version;
    if (parts.has_epoch) {
        if (parts.epoch.empty()) {
            return fail("epoch in version is empty");
        }
        for (const char c : parts.epoch) {
            if (!is_digit(c)) {
                return fail("epoch in version is not a number");
            }
        }
        std::uint64_t epoch = 0;
        const auto [end, error] =
            std::from_chars(parts.epoch.data(), parts.epoch.data() + parts.epoch.size(), epoch);
        if (error != std::errc{} || end != parts.epoch.data() + parts.epoch.size() ||
            epoch > static_cast<std::uint64_t>(INT_MAX)) {
            return fail("epoch in version is too big");
        }
        if (parts.upstream.empty() && !parts.has_revision) {
            return fail("nothing after colon in version number");
        }
        version.m_epoch = static_cast<std::uint32_t>(epoch);
    }
    if (parts.has_revision && parts.revision.empty()) {
        return fail("revision number is empty");
    }
    if (parts.upstream.empty()) {
        return fail("version number is empty");
    }
    if (!is_digit(parts.upstream.front())) {
        return fail("version number does not start with a digit");
    }
    for (const char c : parts.upstream) {
        if (!is_digit(c) && !is_alpha(c) &&
            std::string_view(".-+~:").find(c) == std::string_view::npos) {
            return fail("invalid character in version number");
        }
    }
    for (const char c : parts.revision) {
        if (!is_digit(c) && !is_alpha(c) &&
            std::string_view(".+~").find(c) == std::string_view::npos) {
            return fail("invalid character in revision number");
        }
    }
    version.m_upstream = std::string(parts.upstream);
    version.m_revision = std::string(parts.revision);
    return version;
}

std::string Version::str() const {
    // An upstream version with a colon needs its epoch, even 0: "0:1:2" without it reads as
    // epoch 1 (dpkg prints it the same way).
    const bool epoch = m_epoch != 0 || m_upstream.find(':') != std::string::npos;
    std::string text = epoch ? fmt::format("{}:{}", m_epoch, m_upstream) : m_upstream;
    if (!m_revision.empty()) {
        text += '-';
        text += m_revision;
    }
    return text;
}

std::strong_ordering operator<=>(const Version& a, const Version& b) {
    if (a.m_epoch != b.m_epoch) {
        return a.m_epoch <=> b.m_epoch;
    }
    if (const int c = compare_part(a.m_upstream, b.m_upstream); c != 0) {
        return c <=> 0;
    }
    return compare_part(a.m_revision, b.m_revision) <=> 0;
}

int compare_versions(std::string_view a, std::string_view b) {
    const Parts pa = split(core::trim(a));
    const Parts pb = split(core::trim(b));
    const auto ea = lenient_epoch(pa.epoch);
    const auto eb = lenient_epoch(pb.epoch);
    if (ea != eb) {
        return ea < eb ? -1 : 1;
    }
    if (const int c = compare_part(pa.upstream, pb.upstream); c != 0) {
        return sign(c);
    }
    return sign(compare_part(pa.revision, pb.revision));
}

} // namespace distill::distro::debian
