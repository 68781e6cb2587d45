#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <distill/core/reporter.hpp>
#include <distill/image/reference.hpp>
#include <distill/pipeline/session.hpp>
#include <distill/registry/push.hpp>
#include <distill/resolve/resolve.hpp>
#include <distill/sbom/stored.hpp>

namespace distill::cli {

/// Options every subcommand understands.
struct GlobalOptions {
    std::string cache_dir;
    bool verbose = false;
    bool quiet = false;
};

/// Draws the library's reports on stderr: stage headings and progress on a terminal, plain
/// lines when stderr is not a terminal or CI=true.
class CliReporter final : public core::Reporter {
public:
    explicit CliReporter(const GlobalOptions& options);
    ~CliReporter() override;
    CliReporter(const CliReporter&) = delete;
    CliReporter& operator=(const CliReporter&) = delete;

    void stage(std::string_view name) override;
    void info(std::string_view message) override;
    void warning(std::string_view message) override;
    void debug(std::string_view message) override;
    void progress(std::string_view label, std::uint64_t done, std::uint64_t total) override;

private:
    void clear_progress();

    bool m_verbose;
    bool m_quiet;
    bool m_interactive;
    bool m_progress_shown = false;
    std::chrono::steady_clock::time_point m_last_progress{};
};

/// The session of a subcommand: the global options' cache, `jobs` (--jobs; 0: not given) and
/// `epoch` (source_date_epoch() for the commands that stamp an image).
[[nodiscard]] pipeline::Session::Options session_options(const GlobalOptions& globals, int jobs = 0,
                                                         std::optional<std::int64_t> epoch = {});

/// SOURCE_DATE_EPOCH when set and not empty (it must be a number of seconds since 1970: a usage
/// error otherwise), else nothing.
[[nodiscard]] std::optional<std::int64_t> source_date_epoch();

/// Explains why `name` cannot be resolved for `arch`, on stderr, as `distill plan` does.
void print_problems(std::string_view name, std::string_view arch,
                    const std::vector<resolve::Problem>& problems);

/// The `plan` subcommand; it sets `exit_code` when it fails in a way already reported.
void add_plan_command(CLI::App& app, const GlobalOptions& globals, int& exit_code);

/// The `build` subcommand.
void add_build_command(CLI::App& app, const GlobalOptions& globals, int& exit_code);

/// The `lock` subcommand.
void add_lock_command(CLI::App& app, const GlobalOptions& globals, int& exit_code);

/// The `diff` subcommand.
void add_diff_command(CLI::App& app, const GlobalOptions& globals, int& exit_code);

/// The options of the commands that talk to registries (push, build --push).
struct RegistryFlags {
    std::vector<std::string> push; ///< build --push references
    bool tls_verify = true;
    std::string cert_dir;
    std::string authfile;
    std::uint64_t chunk_size = std::uint64_t{32} << 20U;
};

/// Adds --tls-verify, --cert-dir and --authfile.
void add_registry_options(CLI::App* command, RegistryFlags& flags);

/// References from the command line, each naming a repository; a usage error otherwise.
[[nodiscard]] std::vector<image::Reference> parse_references(const std::vector<std::string>& texts);

/// The push settings of the flags; mount hints are kept in the cache directory.
[[nodiscard]] registry::PushOptions
push_options(const RegistryFlags& flags, const GlobalOptions& globals, core::Reporter& reporter);

/// The result of a push, for --json.
[[nodiscard]] nlohmann::json push_json(const registry::PushResult& result);

/// The result of a push, a line per reference.
void print_push(const registry::PushResult& result);

/// The `push` subcommand.
void add_push_command(CLI::App& app, const GlobalOptions& globals, int& exit_code);

/// The SBOMs of `media_type` a layout holds for `arch` (any when empty): exactly one, or an
/// Error that names the layout's architectures.
[[nodiscard]] std::vector<sbom::StoredSbom>
sboms_for_arch(const image::Layout& layout, const std::string& arch, std::string_view media_type);

/// The `sbom` subcommand.
void add_sbom_command(CLI::App& app, const GlobalOptions& globals, int& exit_code);

/// The `inspect` subcommand.
void add_inspect_command(CLI::App& app, const GlobalOptions& globals, int& exit_code);

/// The `verify` subcommand.
void add_verify_command(CLI::App& app, const GlobalOptions& globals, int& exit_code);

/// Parses the command line, runs the subcommand, prints errors; returns the exit code.
int run(int argc, char** argv);

} // namespace distill::cli
