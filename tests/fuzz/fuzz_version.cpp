// Debian version strings: parsing, printing and dpkg's ordering. The input is two versions,
// split at the first newline.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <distill/distro/debian/version.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto newline = input.find('\n');
    const auto a = input.substr(0, newline);
    const auto b = newline == std::string_view::npos ? a : input.substr(newline + 1);
    (void)distill::distro::debian::compare_versions(a, b);
    const auto parsed = distill::distro::debian::Version::parse(a);
    // What parse() accepts, str() prints back as an equal version.
    if (parsed && !(distill::distro::debian::Version::parse(parsed->str()) == parsed)) {
        std::abort();
    }
    return 0;
}
