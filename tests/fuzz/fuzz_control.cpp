// deb822 paragraphs (control files, the dpkg status database, apt's .sources files).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <distill/distro/debian/control.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        (void)distill::distro::debian::parse_paragraphs(text, "fuzz");
    } catch (const distill::distro::debian::ControlError&) {
    }
    return 0;
}
