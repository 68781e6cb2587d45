#pragma once

#include <string>
#include <vector>

namespace distill::core {

/// What a finished child process left behind.
struct ProcessResult {
    int exit_code = -1; ///< the exit status, or 128 + signal number if it was killed
    std::string out;    ///< everything it wrote to stdout
    std::string err;    ///< everything it wrote to stderr
};

/// Runs a program (looked up in PATH) with `args`, stdin from /dev/null, and collects its
/// output. Throws only if the program cannot be started at all; the caller judges the result.
[[nodiscard]] ProcessResult run_process(const std::vector<std::string>& args);

/// Whether `program` is found in PATH.
[[nodiscard]] bool program_exists(const std::string& program);

} // namespace distill::core
