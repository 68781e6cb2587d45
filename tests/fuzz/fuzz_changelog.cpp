// Debian changelogs (changelog.Debian.gz as packages ship it, decompressed): the entries and
// what the ones between two versions fixed, as `distill diff` reads them.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <distill/distro/debian/changelog.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto entries = distill::distro::debian::parse_changelog(text);
    (void)distill::distro::debian::fixes_between(entries, "0", "99:99");
    return 0;
}
