#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

#include <fmt/format.h>

#include <distill/core/text.hpp>

#include "cli.hpp"

namespace distill::cli {
namespace {

bool in_ci() {
    const char* ci = std::getenv("CI");
    return ci != nullptr && std::string(ci) == "true";
}

} // namespace

CliReporter::CliReporter(const GlobalOptions& options)
    : m_verbose(options.verbose)
    , m_quiet(options.quiet)
    , m_interactive(::isatty(STDERR_FILENO) == 1 && !in_ci()) {}

CliReporter::~CliReporter() {
    clear_progress();
}

void CliReporter::clear_progress() {
    if (m_progress_shown) {
        fmt::print(stderr, "\r\033[K");
        m_progress_shown = false;
    }
}

void CliReporter::stage(std::string_view name) {
    if (m_quiet) {
        return;
    }
    clear_progress();
    if (m_interactive) {
        fmt::print(stderr, "\033[1m==> {}\033[0m\n", name);
    } else {
        fmt::print(stderr, "==> {}\n", name);
    }
}

void CliReporter::info(std::string_view message) {
    if (m_quiet) {
        return;
    }
    clear_progress();
    fmt::print(stderr, "    {}\n", message);
}

void CliReporter::warning(std::string_view message) {
    clear_progress();
    fmt::print(stderr, "distill: warning: {}\n", message);
}

void CliReporter::debug(std::string_view message) {
    if (!m_verbose) {
        return;
    }
    clear_progress();
    fmt::print(stderr, "    {}\n", message);
}

void CliReporter::progress(std::string_view label, std::uint64_t done, std::uint64_t total) {
    if (m_quiet || !m_interactive) {
        return;
    }
    // A terminal needs no more than ten updates a second.
    const auto now = std::chrono::steady_clock::now();
    if (done != total && now - m_last_progress < std::chrono::milliseconds(100)) {
        return;
    }
    m_last_progress = now;
    // Large totals are bytes; small ones are counts (packages).
    const auto show = [&](std::uint64_t n) {
        return total >= 1'000'000 ? core::human_size(n) : std::to_string(n);
    };
    if (total > 0) {
        fmt::print(stderr, "\r\033[K    {} {}/{}", label, show(done), show(total));
    } else {
        fmt::print(stderr, "\r\033[K    {} {}", label, show(done));
    }
    std::fflush(stderr);
    m_progress_shown = true;
}

} // namespace distill::cli
