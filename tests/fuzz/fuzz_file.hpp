#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string_view>

#include <distill/core/fs.hpp>

namespace distill::fuzz {

/// A scratch directory kept for the whole run.
inline const std::filesystem::path& scratch_dir() {
    static const core::TempDir scratch("distill-fuzz-");
    return scratch.path();
}

/// Writes a fuzz input to `name` in the scratch directory, for the readers that take a path;
/// returns the path.
inline std::filesystem::path input_file(const std::uint8_t* data, std::size_t size,
                                        std::string_view name) {
    const auto file = scratch_dir() / name;
    std::FILE* out = std::fopen(file.c_str(), "wb");
    if (out == nullptr || std::fwrite(data, 1, size, out) != size || std::fclose(out) != 0) {
        std::abort(); // the harness, not the code under test, failed
    }
    return file;
}

} // namespace distill::fuzz
