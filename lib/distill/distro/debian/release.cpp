#include <array>
#include <charconv>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <distill/core/digest.hpp>
#include <distill/distro/debian/control.hpp>
#include <distill/distro/debian/release.hpp>

namespace distill::distro::debian {
namespace {

constexpr std::array<std::string_view, 12> k_months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

template <typename Int>
bool parse_int(std::string_view text, Int& out) {
    const auto* end = text.data() + text.size();
    const auto result = std::from_chars(text.data(), end, out);
    return result.ec == std::errc() && result.ptr == end;
}

} // namespace

const ReleaseEntry* Release::find(std::string_view path) const {
    for (const auto& entry : entries) {
        if (entry.path == path) {
            return &entry;
        }
    }
    return nullptr;
}

bool Release::names(std::string_view name) const {
    return name == suite || name == codename;
}

std::optional<std::chrono::sys_seconds> parse_release_date(std::string_view text) {
    // Written by hand rather than with strptime: %a and %b follow the process locale, and
    // the day-of-week is redundant anyway.
    auto words = split_words(text);
    if (!words.empty() && words.front().ends_with(',')) {
        words.erase(words.begin());
    }
    if (words.size() != 5) {
        return std::nullopt;
    }
    unsigned day = 0;
    int year = 0;
    if (!parse_int(words[0], day) || !parse_int(words[2], year)) {
        return std::nullopt;
    }
    unsigned month = 0;
    for (unsigned i = 0; i < k_months.size(); ++i) {
        if (words[1] == k_months[i]) {
            month = i + 1;
        }
    }
    const auto& clock = words[3];
    int hours = 0;
    int minutes = 0;
    int seconds = 0;
    if (month == 0 || clock.size() != 8 || clock[2] != ':' || clock[5] != ':' ||
        !parse_int(std::string_view(clock).substr(0, 2), hours) ||
        !parse_int(std::string_view(clock).substr(3, 2), minutes) ||
        !parse_int(std::string_view(clock).substr(6, 2), seconds)) {
        return std::nullopt;
    }
    int offset_minutes = 0;
    const auto& zone = words[4];
    if (zone != "UTC" && zone != "GMT" && zone != "Z") {
        int hhmm = 0;
        if (zone.size() != 5 || (zone[0] != '+' && zone[0] != '-') ||
            !parse_int(std::string_view(zone).substr(1), hhmm)) {
            return std::nullopt;
        }
        offset_minutes = (hhmm / 100) * 60 + hhmm % 100;
        if (zone[0] == '-') {
            offset_minutes = -offset_minutes;
        }
    }
    const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(month),
                                           std::chrono::day(day)};
    if (!date.ok() || hours > 23 || minutes > 59 || seconds > 60) {
        return std::nullopt;
    }
    return std::chrono::sys_days(date) + std::chrono::hours(hours) +
           std::chrono::minutes(minutes - offset_minutes) + std::chrono::seconds(seconds);
}

std::string format_release_date(std::chrono::sys_seconds time) {
    return fmt::format("{:%a, %d %b %Y %H:%M:%S} UTC", time);
}

Release parse_release(std::string_view text, std::string_view origin) {
    const auto paragraphs = parse_paragraphs(text, origin);
    if (paragraphs.empty()) {
        throw ControlError(fmt::format("{}: empty Release file", origin));
    }
    const auto& fields = paragraphs.front();
    Release release;
    release.origin = fields.value_or("Origin", "");
    release.label = fields.value_or("Label", "");
    release.suite = fields.value_or("Suite", "");
    release.codename = fields.value_or("Codename", "");
    release.version = fields.value_or("Version", "");
    release.architectures = split_words(fields.value_or("Architectures", ""));
    release.components = split_words(fields.value_or("Components", ""));
    release.acquire_by_hash = fields.value_or("Acquire-By-Hash", "no") == "yes";
    for (const auto& word : split_words(fields.value_or("No-Support-for-Architecture-all", ""))) {
        release.all_in_arch_indexes = release.all_in_arch_indexes || word == "Packages";
    }
    for (const auto& [name, slot] :
         {std::pair{"Date", &release.date}, std::pair{"Valid-Until", &release.valid_until}}) {
        if (const auto value = fields.get(name)) {
            *slot = parse_release_date(*value);
            if (!*slot) {
                throw ControlError(
                    fmt::format("{}: cannot read the {} date \"{}\"", origin, name, *value));
            }
        }
    }

    const auto sha256 = fields.get("SHA256");
    if (!sha256) {
        throw ControlError(fmt::format("{}: no SHA256 list; distill does not trust files vouched "
                                       "for by MD5 or SHA-1 alone",
                                       origin));
    }
    for (const auto& line : split_lines(*sha256)) {
        const auto words = split_words(line);
        ReleaseEntry entry;
        if (words.size() != 3 || !core::is_sha256_hex(words[0]) ||
            !parse_int(std::string_view(words[1]), entry.size)) {
            throw ControlError(fmt::format("{}: malformed SHA256 line \"{}\"", origin, line));
        }
        entry.sha256 = words[0];
        entry.path = words[2];
        release.entries.push_back(std::move(entry));
    }
    return release;
}

} // namespace distill::distro::debian
