// Release files (the signed text of an InRelease): fields, dates and the checksum lists.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <distill/core/error.hpp>
#include <distill/distro/debian/release.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        (void)distill::distro::debian::parse_release(text, "fuzz");
    } catch (const distill::Error&) {
    }
    return 0;
}
