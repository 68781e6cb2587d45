#include <memory>

#include <fmt/format.h>

#include <distill/core/text.hpp>
#include <distill/distro/distro.hpp>
#include <distill/lock/lock.hpp>
#include <distill/pipeline/pipeline.hpp>

#include "cli.hpp"

namespace distill::cli {

void add_lock_command(CLI::App& app, const GlobalOptions& globals, int& exit_code) {
    struct Options {
        std::string manifest;
        std::string lock;
        std::vector<std::string> archs;
        bool update = false;
    };
    auto options = std::make_shared<Options>();
    auto* command = app.add_subcommand(
        "lock", "Resolve the manifest and write its lockfile (NAME.lock beside NAME.yaml)");
    command->add_option("manifest", options->manifest, "The image manifest (YAML)")->required();
    command->add_flag("--update", options->update,
                      "Resolve the current versions even when the lock matches the manifest");
    command->add_option("--lock", options->lock,
                        "Where the lock goes (default: beside the "
                        "manifest)");
    command->add_option("--arch", options->archs,
                        "Lock this architecture instead of the manifest's (repeatable)");
    command->footer(R"(The lock records, per architecture, every package of the closure with its
version, suite, URL, size and SHA-256, the signed release files (their SHA-256
and the keys that signed them) and a digest of the manifest and everything it
includes. `distill build` then takes exactly these packages, without running the
solver, as long as the manifest is unchanged.

Without --update, a lock that matches the manifest is left as it is; a manifest
that changed is resolved again. The file is JSON, one field per line, so a
version change is a one-line diff; see manifests/README.md.

Examples:
  distill lock manifests/java17.yaml
  distill lock --update manifests/java17.yaml && distill diff old.lock manifests/java17.lock)");
    command->callback([options, &globals, &exit_code] {
        CliReporter reporter(globals);
        const auto loaded = distro::load_manifest(options->manifest, options->archs);
        pipeline::Session session(session_options(globals), reporter);
        pipeline::LockSettings lock_settings;
        lock_settings.mode =
            options->update ? pipeline::LockMode::update : pipeline::LockMode::automatic;
        lock_settings.path = options->lock;
        auto resolved = pipeline::resolve_packages(session, loaded, {}, lock_settings);
        pipeline::write_lock(resolved);
        for (const auto& plan : resolved.plans) {
            fmt::print("{} ({}): {} packages, {} installed\n", resolved.manifest.name, plan.arch,
                       plan.packages.size(), core::human_size(plan.installed_size()));
        }
        fmt::print("lock {} {}\n", resolved.lock.path.string(),
                   resolved.lock.written ? "written" : "is up to date");
        exit_code = 0;
    });
}

} // namespace distill::cli
