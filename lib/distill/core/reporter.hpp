#pragma once

#include <cstdint>
#include <string_view>

namespace distill::core {

/// How the library tells its caller what it is doing. The library never prints: the CLI
/// implements this as progress lines on a terminal and as plain lines in CI, tests use a
/// recording one.
class Reporter {
public:
    virtual ~Reporter() = default;

    /// A new stage of the pipeline begins ("sources", "resolve", ...).
    virtual void stage(std::string_view name) = 0;
    /// Something worth a line for the user.
    virtual void info(std::string_view message) = 0;
    /// Something the user should know about that does not stop the work.
    virtual void warning(std::string_view message) = 0;
    /// Detail that only `--verbose` shows.
    virtual void debug(std::string_view message) = 0;
    /// Progress of a long step; `total` is 0 when unknown.
    virtual void progress(std::string_view label, std::uint64_t done, std::uint64_t total) = 0;
};

/// A reporter that drops everything.
class NullReporter final : public Reporter {
public:
    void stage(std::string_view /*name*/) override {}
    void info(std::string_view /*message*/) override {}
    void warning(std::string_view /*message*/) override {}
    void debug(std::string_view /*message*/) override {}
    void progress(std::string_view /*label*/, std::uint64_t /*done*/,
                  std::uint64_t /*total*/) override {}
};

} // namespace distill::core
