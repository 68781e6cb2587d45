#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace distill::core {

/// What a finished child process left behind.
struct ProcessResult {
    int exit_code = -1; ///< the exit status, or 128 + signal number if it was killed
    std::string out;    ///< everything it wrote to stdout
    std::string err;    ///< everything it wrote to stderr
};

/// Runs a program (looked up in PATH) with `args`, stdin from /dev/null (or `input`, written
/// whole and closed; keep it under 64 KiB), and collects its output, at most `max_output`
/// bytes of each stream (more kills it: an Error). Throws only if the program cannot be started
/// at all or says too much; the caller judges the result.
[[nodiscard]] ProcessResult run_process(const std::vector<std::string>& args,
                                        const std::optional<std::string>& input = std::nullopt,
                                        std::size_t max_output = std::size_t{64} << 20U);

/// Whether `program` is found in PATH.
[[nodiscard]] bool program_exists(const std::string& program);

} // namespace distill::core
