// Lockfiles, through the reader the CLI uses (it takes a path: the input goes to a file).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <distill/core/error.hpp>
#include <distill/lock/lock.hpp>

#include "fuzz_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto file = distill::fuzz::input_file(data, size, "fuzz.lock");
    try {
        (void)distill::lock::read(file);
    } catch (const distill::Error&) {
    }
    return 0;
}
