#include <algorithm>
#include <array>

#include <distill/distro/facts.hpp>

namespace distill::distro {
namespace {

constexpr std::array<std::string_view, 3> k_debian_suites{"", "-updates", "-security"};
constexpr std::array<std::string_view, 1> k_alpine_suites{""};

// Debian policy 5.6.1 for Debian; apk also takes uppercase letters and `_`.
constexpr std::array<Facts, 2> k_facts{{
    {manifest::Distro::debian, k_debian_suites, "main", "+-.", false, 2,
     "Debian package names use lowercase letters, digits, `+`, `-` and `.`, start with a letter "
     "or digit and are at least two characters long",
     false, "busybox-static"},
    {manifest::Distro::alpine, k_alpine_suites, "main", "+-._", true, 1,
     "Alpine package names use letters, digits, `+`, `-`, `.` and `_` and start with a letter "
     "or digit (community has a package `R`); a request may also name what a package "
     "provides, e.g. `cmd:busybox`, `so:libz.so.1` or `/bin/sh`",
     true, "busybox"},
}};

bool lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool alnum(const Facts& facts, char c) {
    return lower_alnum(c) || (facts.uppercase_names && c >= 'A' && c <= 'Z');
}

} // namespace

const Facts& facts(manifest::Distro distro) {
    return *std::find_if(k_facts.begin(), k_facts.end(),
                         [&](const Facts& f) { return f.id == distro; });
}

bool package_name_char(const Facts& facts, char c) {
    return alnum(facts, c) || facts.name_punctuation.find(c) != std::string_view::npos;
}

bool valid_provided_name(const Facts& facts, std::string_view name) {
    if (!facts.provided_names || name.size() < 2 || name.size() > 256) {
        return false;
    }
    const bool plain = std::all_of(name.begin(), name.end(), [](char c) {
        return c > ' ' && c < 0x7f && std::string_view("@<>=~!").find(c) == std::string_view::npos;
    });
    if (!plain) {
        return false;
    }
    if (name.front() == '/') {
        return true;
    }
    const auto colon = name.find(':');
    if (colon == 0 || colon == std::string_view::npos || colon + 1 == name.size()) {
        return false;
    }
    return std::all_of(name.begin(), name.begin() + static_cast<std::ptrdiff_t>(colon),
                       [](char c) { return lower_alnum(c) || c == '.'; });
}

bool valid_package_name(const Facts& facts, std::string_view name) {
    return name.size() >= facts.min_name_length && !name.empty() && alnum(facts, name.front()) &&
           std::all_of(name.begin(), name.end(),
                       [&](char c) { return package_name_char(facts, c); });
}

} // namespace distill::distro
