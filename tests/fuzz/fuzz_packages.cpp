// Packages indexes, as the solver loads them: libsolv's parser with distill's scanner of the
// fields libsolv skips (Size, Priority).
#include <cstddef>
#include <cstdint>

#include <distill/core/error.hpp>
#include <distill/resolve/solv/pool.hpp>

#include "fuzz_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto file = distill::fuzz::input_file(data, size, "Packages");
    try {
        distill::resolve::solv::Pool pool("amd64");
        pool.load_deb_packages(pool.add_repo("fuzz"), file, "Packages", {});
    } catch (const distill::Error&) {
    }
    return 0;
}
