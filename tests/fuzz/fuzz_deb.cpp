// The .deb reader: ar, the control and data tar members and their compressors, the path and
// entry checks. Each input is unpacked into a fresh cache (the cached form is keyed by hash).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>

#include <distill/core/cache.hpp>
#include <distill/core/digest.hpp>
#include <distill/core/error.hpp>
#include <distill/distro/debian/deb.hpp>

#include "fuzz_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto file = distill::fuzz::input_file(data, size, "fuzz.deb");
    const auto cache_root = distill::fuzz::scratch_dir() / "cache";
    std::filesystem::remove_all(cache_root);
    const distill::core::Cache cache(cache_root);
    distill::distro::debian::DebInput input;
    input.path = file;
    input.sha256 =
        distill::core::sha256_hex(std::string_view(reinterpret_cast<const char*>(data), size));
    input.label = "fuzz 1.0";
    input.limits.max_bytes = 64 << 20;
    try {
        (void)distill::distro::debian::unpack_deb(input, cache);
    } catch (const distill::Error&) {
    }
    return 0;
}
