// Alpine repository indexes: the text of APKINDEX, and (for an input that starts as gzip does)
// the APKINDEX.tar.gz around it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <distill/core/error.hpp>
#include <distill/distro/alpine/apkindex.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace alpine = distill::distro::alpine;
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    try {
        if (input.starts_with("\x1f\x8b")) {
            const auto files = alpine::read_index_archive(input, "APKINDEX.tar.gz");
            (void)alpine::parse_index(files.apkindex, "APKINDEX.tar.gz: APKINDEX");
        } else {
            (void)alpine::parse_index(input, "APKINDEX");
        }
    } catch (const distill::Error&) {
    }
    return 0;
}
