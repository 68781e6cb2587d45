#include "cli.hpp"

#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include <fmt/format.h>

#include <distill/core/cancel.hpp>
#include <distill/core/error.hpp>

namespace distill::cli {
namespace {

constexpr const char* k_description =
    "distill builds minimal, distroless OCI images from Debian or Alpine packages: the "
    "dependency closure "
    "of a runtime and nothing else - no shell, no package manager, no tools an attacker could "
    "use. A YAML manifest names the runtime; every signature and hash is verified.";

constexpr const char* k_footer = R"(Examples:
  distill plan manifests/java17.yaml         what the JVM image holds, and why
  distill plan --json manifests/base.yaml    the same as JSON, for scripts
  distill build manifests/java17.yaml        the image, as an OCI layout in out/java17
  podman run --rm oci:out/java17 -version    run it
  distill lock --update manifests/java17.yaml   today's versions into java17.lock
  distill diff old.lock manifests/java17.lock   what changed, with the CVEs fixed
  distill verify out/java17 manifests/java17.yaml   rebuild from the lock, compare

Manifest reference: manifests/README.md

Environment:
  DISTILL_DEBIAN_MIRROR           Debian mirror when a manifest names none
                                  (default: the host's apt sources)
  DISTILL_DEBIAN_SECURITY_MIRROR  mirror for the -security suites
  DISTILL_ALPINE_MIRROR           Alpine mirror when a manifest names none
                                  (the directory holding v3.19/main/...)
  DISTILL_ALPINE_KEYRING          Alpine signing keys (a .rsa.pub or a directory;
                                  default: /etc/apk/keys, /usr/share/apk/keys)
  XDG_CACHE_HOME                  cache location (default ~/.cache/distill)
  SOURCE_DATE_EPOCH               the images' time stamp (default: the newest
                                  package's build date)

Exit codes:
  0 success          3 invalid manifest       6 unsolvable request
  1 other error      4 verification failed    7 unsafe package content
  2 usage error      5 download failed        8 lock missing or outdated (--frozen)
  9 verify: rebuild differs                   130 interrupted)";

} // namespace

pipeline::Session::Options session_options(const GlobalOptions& globals, int jobs,
                                           std::optional<std::int64_t> epoch) {
    return pipeline::Session::Options{globals.cache_dir, jobs, epoch};
}

std::optional<std::int64_t> source_date_epoch() {
    const char* text = std::getenv("SOURCE_DATE_EPOCH");
    if (text == nullptr || *text == '\0') {
        return std::nullopt;
    }
    std::int64_t epoch = 0;
    const std::string_view view(text);
    const auto [end, error] = std::from_chars(view.data(), view.data() + view.size(), epoch);
    if (error != std::errc{} || end != view.data() + view.size() || epoch < 0) {
        throw Error(
            fmt::format("SOURCE_DATE_EPOCH=`{}` is not a number of seconds since 1970", view),
            ExitCode::usage);
    }
    return epoch;
}

void print_problems(std::string_view name, std::string_view arch,
                    const std::vector<resolve::Problem>& problems) {
    fmt::print(stderr, "distill: error: cannot resolve {} for {}:\n", name, arch);
    for (const auto& problem : problems) {
        fmt::print(stderr, "  - {}\n", problem.summary);
        for (const auto& detail : problem.details) {
            fmt::print(stderr, "      {}\n", detail);
        }
        if (!problem.hint.empty()) {
            fmt::print(stderr, "    hint: {}\n", problem.hint);
        }
    }
}

int run(int argc, char** argv) {
    CLI::App app(k_description, "distill");
    app.footer(k_footer);
    app.set_version_flag("--version", "distill " DISTILL_VERSION);
    app.require_subcommand(1);
    app.fallthrough();

    GlobalOptions globals;
    app.add_option("--cache-dir", globals.cache_dir,
                   "Cache for indexes and packages (default: $XDG_CACHE_HOME/distill)");
    app.add_flag("-v,--verbose", globals.verbose, "Show every download and decision");
    app.add_flag("-q,--quiet", globals.quiet, "Show only warnings and errors");

    int exit_code = 0;
    add_plan_command(app, globals, exit_code);
    add_build_command(app, globals, exit_code);
    add_lock_command(app, globals, exit_code);
    add_diff_command(app, globals, exit_code);
    add_verify_command(app, globals, exit_code);
    add_push_command(app, globals, exit_code);
    add_inspect_command(app, globals, exit_code);
    add_sbom_command(app, globals, exit_code);

    // A first Ctrl-C (or SIGTERM) asks the running step to stop: the build unwinds, removes
    // what it staged and leaves the previous output as it was. A second one ends the process.
    struct sigaction action {};
    action.sa_handler = [](int) {
        core::request_cancel();
    };
    action.sa_flags = static_cast<int>(SA_RESETHAND);
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        fmt::print(stderr, "distill: error: {}\nRun 'distill --help' for usage.\n", e.what());
        return static_cast<int>(ExitCode::usage);
    } catch (const std::exception& e) {
        std::fflush(stdout);
        if (const auto* unsolvable = find_nested<resolve::UnsolvableError>(e)) {
            // The same explanation `distill plan` gives, architecture by architecture.
            for (const auto& arch : unsolvable->unsolved()) {
                print_problems(unsolvable->name(), arch.arch, arch.problems);
            }
            return static_cast<int>(unsolvable->exit_code());
        }
        fmt::print(stderr, "distill: error: {}\n", describe(e));
        if (core::cancel_requested()) {
            return 130; // as a shell reports a process ended by SIGINT
        }
        return static_cast<int>(exit_code_of(e));
    }
    return exit_code;
}

} // namespace distill::cli
