#include <algorithm>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <distill/core/error.hpp>
#include <distill/core/text.hpp>
#include <distill/distro/distro.hpp>
#include <distill/pipeline/pipeline.hpp>
#include <distill/runtime/profile.hpp>

#include "cli.hpp"

namespace distill::cli {
namespace {

struct PlanOptions {
    std::string manifest;
    bool json = false;
    std::vector<std::string> archs;
    std::string solver_debug;
};

std::string why_text(const resolve::PlannedPackage& package) {
    if (package.why.size() <= 1) {
        return "requested";
    }
    return fmt::format("{}", fmt::join(package.why.begin(), package.why.end() - 1, " > "));
}

/// What each variant adds, and how the runtime profile was relaxed.
std::vector<std::string> variants_and_runtime(const manifest::Manifest& manifest,
                                              const resolve::Plan& plan) {
    std::vector<std::string> lines;
    for (const auto& variant : manifest.variants) {
        if (variant.value == manifest::k_variant_root) {
            lines.push_back(fmt::format("variant root: the image running as root (uid 0), "
                                        "tagged TAG-root"));
            continue;
        }
        std::vector<std::string> added;
        for (const auto& p : plan.packages) {
            if (p.variant == variant.value) {
                added.push_back(fmt::format("{} {} ({})", p.name, p.version,
                                            core::human_size(p.installed_size)));
            }
        }
        lines.push_back(
            fmt::format("variant debug: adds {} as busybox's shell and applets under "
                        "/busybox (last in PATH), tagged TAG-debug",
                        added.empty() ? "nothing" : fmt::format("{}", fmt::join(added, ", "))));
    }
    const auto settings = runtime::settings_for(manifest, "0:0");
    const auto relaxed = runtime::relaxations(settings);
    lines.push_back(fmt::format("runtime profile: a read-only root with a tmpfs /tmp, no "
                                "capability, no new privileges; seccomp denies {} system calls{}",
                                runtime::denied_count(settings),
                                relaxed.empty() ? "" : "; relaxed by the manifest:"));
    for (const auto& line : relaxed) {
        lines.push_back("  " + line);
    }
    return lines;
}

void print_text(const pipeline::PlanResult& result) {
    const auto& manifest = result.manifest;
    for (const auto& arch : result.archs) {
        const auto& plan = arch.resolution.plan;
        fmt::print("{} ({} {}, {}): {} packages, {} installed, {} to download\n\n", manifest.name,
                   manifest::to_string(manifest.distro), manifest.release, arch.arch,
                   pipeline::image_packages(plan), core::human_size(plan.installed_size()),
                   core::human_size(plan.download_size()));
        std::size_t name_width = 7;
        std::size_t version_width = 7;
        for (const auto& p : plan.packages) {
            name_width = std::max(name_width, p.name.size());
            version_width = std::max(version_width, p.version.size());
        }
        fmt::print("  {:<{}}  {:<{}}  {:>8}  {}\n", "package", name_width, "version", version_width,
                   "size", "why");
        for (const auto& p : plan.packages) {
            if (p.variant.empty()) {
                fmt::print("  {:<{}}  {:<{}}  {:>8}  {}\n", p.name, name_width, p.version,
                           version_width, core::human_size(p.installed_size), why_text(p));
            }
        }
        fmt::print("\n");
        for (const auto& line : variants_and_runtime(manifest, plan)) {
            fmt::print("{}\n", line);
        }
        if (!plan.excluded.empty()) {
            fmt::print("\nExcluded (dependencies on these are satisfied without installing "
                       "them):\n");
            std::size_t width = 7;
            std::size_t reason_width = 6;
            for (const auto& e : plan.excluded) {
                width = std::max(width, e.name.size());
                reason_width = std::max(reason_width, e.reason.size());
            }
            for (const auto& e : plan.excluded) {
                fmt::print("  {:<{}}  {:<{}}  wanted by {}\n", e.name, width, e.reason,
                           reason_width, fmt::join(e.wanted_by, ", "));
            }
        }
        fmt::print("\n");
    }
}

void print_unsolved(const pipeline::PlanResult& result) {
    for (const auto& arch : result.archs) {
        if (!arch.resolution.solved()) {
            print_problems(result.manifest.name, arch.arch, arch.resolution.problems);
        }
    }
}

nlohmann::json problems_json(const resolve::Resolution& resolution) {
    nlohmann::json problems = nlohmann::json::array();
    for (const auto& problem : resolution.problems) {
        problems.push_back(
            {{"summary", problem.summary},
             {"details", problem.details},
             {"hint", problem.hint.empty() ? nlohmann::json() : nlohmann::json(problem.hint)}});
    }
    return problems;
}

void print_json(const pipeline::PlanResult& result) {
    nlohmann::json archs = nlohmann::json::array();
    for (const auto& arch : result.archs) {
        auto json = arch.resolution.solved() ? resolve::to_json(arch.resolution.plan)
                                             : nlohmann::json{{"arch", arch.arch}};
        if (!arch.resolution.solved()) {
            json["problems"] = problems_json(arch.resolution);
        } else {
            const auto settings = runtime::settings_for(result.manifest, "0:0");
            nlohmann::json variants = nlohmann::json::array();
            for (const auto& variant : result.manifest.variants) {
                variants.push_back(variant.value);
            }
            json["variants"] = std::move(variants);
            json["runtime"] = {{"denied_syscalls", runtime::denied_count(settings)},
                               {"relaxed", runtime::relaxations(settings)}};
        }
        archs.push_back(std::move(json));
    }
    // One architecture gives one object; several give an array of them.
    fmt::print("{}\n", (archs.size() == 1 ? archs.front() : archs).dump(2));
}

} // namespace

void add_plan_command(CLI::App& app, const GlobalOptions& globals, int& exit_code) {
    auto options = std::make_shared<PlanOptions>();
    auto* command = app.add_subcommand(
        "plan", "Show what an image would contain and why, without downloading any package");
    command->add_option("manifest", options->manifest, "The image manifest (YAML)")->required();
    command->add_flag("--json", options->json, "Print the plan as JSON on stdout");
    command->add_option("--arch", options->archs,
                        "Plan for this architecture instead of the manifest's (repeatable)");
    command->add_option("--solver-debug", options->solver_debug,
                        "Write a libsolv testcase of the resolution into this directory");
    command->footer(R"(The plan lists, per architecture and in install order, every package with its
version, installed size and why it is there (the dependency chain from a package
the manifest asks for), then the packages that the exclusion policy keeps out
although something depends on them, with the reason and who wanted them.
A package that looks like an installer (its content is downloaded or made by
its maintainer scripts at install time, which distill never runs) is named in a
warning, and in `warnings` of the JSON output. A requested package that only a
component the manifest does not use has (contrib, non-free) gets a hint saying
how to add that component. Then what each variant adds (`variants:`: the debug
variant's busybox, the root variant's uid 0) and the runtime profile: how many
system calls its seccomp profile denies, and what the manifest's `runtime:`
relaxed (`variant_packages`, `variants` and `runtime` in the JSON output).

Examples:
  distill plan manifests/java17.yaml
  distill plan --json --arch arm64 manifests/base.yaml)");

    command->callback([options, &globals, &exit_code] {
        CliReporter reporter(globals);
        const auto loaded = distro::load_manifest(options->manifest, options->archs);
        pipeline::Session session(session_options(globals), reporter);
        pipeline::Settings settings;
        settings.solver_debug_dir = options->solver_debug;
        const auto result = pipeline::plan(session, loaded, settings);
        if (options->json) {
            print_json(result);
        } else if (result.solved()) {
            print_text(result);
        }
        if (!result.solved()) {
            print_unsolved(result);
            if (!options->solver_debug.empty()) {
                fmt::print(stderr, "A libsolv testcase is in {} (replay it with testsolv).\n",
                           options->solver_debug);
            }
            exit_code = static_cast<int>(ExitCode::unsolvable);
        }
    });
}

} // namespace distill::cli
