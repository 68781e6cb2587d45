// Packages indexes, as the solver loads them: libsolv's parser with distill's scanner of the
// fields libsolv skips (Size, Priority).
#include <cstddef>
#include <cstdint>

#include <distill/core/error.hpp>
#include <distill/distro/debian/pool_loader.hpp>
#include <distill/resolve/solv/pool.hpp>

#include "fuzz_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto file = distill::fuzz::input_file(data, size, "Packages");
    try {
        static const distill::distro::debian::PoolLoader loader;
        distill::resolve::solv::Pool pool(loader, "amd64");
        pool.load_index(pool.add_repo("fuzz"), file, "Packages");
    } catch (const distill::Error&) {
    }
    return 0;
}
