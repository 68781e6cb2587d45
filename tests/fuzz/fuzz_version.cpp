// Debian and Alpine version strings: parsing, printing and ordering. The input is two
// versions, split at the first newline.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <distill/distro/alpine/version.hpp>
#include <distill/distro/debian/version.hpp>

namespace {

int sign(int value) {
    return (value > 0) - (value < 0);
}

void check_debian(std::string_view a, std::string_view b) {
    (void)distill::distro::debian::compare_versions(a, b);
    const auto parsed = distill::distro::debian::Version::parse(a);
    // What parse() accepts, str() prints back as an equal version.
    if (parsed && !(distill::distro::debian::Version::parse(parsed->str()) == parsed)) {
        std::abort();
    }
}

void check_alpine(std::string_view a, std::string_view b) {
    namespace alpine = distill::distro::alpine;
    using distill::distro::debian::compare_versions;
    // apk's order is antisymmetric on any input, valid or not.
    const int order = sign(alpine::compare_versions(a, b));
    if (sign(alpine::compare_versions(b, a)) != -order) {
        std::abort();
    }
    if (alpine::is_valid_version(a) && alpine::is_valid_version(b)) {
        // dpkg orders the sortable forms as apk orders the versions; equal ones map alike.
        const auto sa = alpine::sortable_version(a);
        const auto sb = alpine::sortable_version(b);
        if (sign(compare_versions(sa, sb)) != order || (order == 0 && sa != sb)) {
            std::abort();
        }
        const auto [low, high] = alpine::fuzzy_bounds(b);
        const bool inside = compare_versions(low, sa) <= 0 && compare_versions(sa, high) < 0;
        if (inside != alpine::fuzzy_match(a, b)) {
            std::abort();
        }
    }
    // A token that parses is written back in a form that parses to the same.
    if (const auto dependency = alpine::parse_dependency(a)) {
        const auto text = alpine::format_dependency(*dependency);
        const auto again = alpine::parse_dependency(text);
        if (!again || alpine::format_dependency(*again) != text) {
            std::abort();
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto newline = input.find('\n');
    const auto a = input.substr(0, newline);
    const auto b = newline == std::string_view::npos ? a : input.substr(newline + 1);
    check_debian(a, b);
    check_alpine(a, b);
    return 0;
}
