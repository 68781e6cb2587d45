// The .apk reader: gzip members, the signature, control and data tars, .PKGINFO, the C: and
// datahash checks, the entry checks. Each input is unpacked into a fresh cache (the cached
// form is keyed by hash). An input whose last byte is odd is checked against a C: (that of
// musl's control member, which a mutated one fails), the others against none, so that both
// the mismatch and everything after the check are reached. The same bytes go to the
// .PKGINFO parser.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>

#include <distill/core/cache.hpp>
#include <distill/core/digest.hpp>
#include <distill/core/error.hpp>
#include <distill/distro/alpine/apk.hpp>
#include <distill/unpack/unpack.hpp>

#include "fuzz_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto file = distill::fuzz::input_file(data, size, "fuzz.apk");
    const auto cache_root = distill::fuzz::scratch_dir() / "cache";
    std::filesystem::remove_all(cache_root);
    const distill::core::Cache cache(cache_root);
    distill::unpack::Input input;
    input.path = file;
    input.sha256 =
        distill::core::sha256_hex(std::string_view(reinterpret_cast<const char*>(data), size));
    input.label = "fuzz 1.0-r0";
    input.limits.max_bytes = 64 << 20;
    if (size > 0 && (data[size - 1] & 1U) != 0) {
        input.identity = "Q1kqFQHSGzXGq3k7gQTqb+GxbmnOw=";
    }
    try {
        (void)distill::unpack::unpack(input, distill::distro::alpine::ApkReader(), cache);
    } catch (const distill::Error&) {
    }
    try {
        (void)distill::distro::alpine::parse_pkginfo(
            std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
    } catch (const distill::Error&) {
    }
    return 0;
}
