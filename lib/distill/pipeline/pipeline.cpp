#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <distill/core/cache.hpp>
#include <distill/core/http.hpp>
#include <distill/core/text.hpp>
#include <distill/distro/distro.hpp>
#include <distill/lock/lock.hpp>
#include <distill/pipeline/pipeline.hpp>

namespace distill::pipeline {

bool PlanResult::solved() const {
    for (const auto& arch : archs) {
        if (!arch.resolution.solved()) {
            return false;
        }
    }
    return true;
}

namespace {

manifest::Manifest read_manifest(const std::filesystem::path& path) {
    auto manifest = manifest::parse(path);
    distro::validate(manifest);
    return manifest;
}

/// Adds to each "no package named X" problem where X is after all, when a component of the
/// same suites that the manifest does not use has it. The other components' indexes are
/// downloaded (and verified) only here, when a package is missing.
void explain_missing(const distro::Distro& distro, resolve::Resolution& resolution,
                     sources::IndexSet& indexes, sources::Context& context,
                     const resolve::Options& options) {
    std::vector<std::string> missing;
    for (const auto& problem : resolution.problems) {
        if (!problem.missing.empty()) {
            missing.push_back(problem.missing);
        }
    }
    if (missing.empty() || indexes.unused.empty()) {
        return;
    }
    std::map<std::string, std::size_t> found;
    try {
        sources::fetch_unused(indexes.unused, context, indexes.stats);
        std::vector<sources::PackageIndex> unused;
        for (const auto& entry : indexes.unused) {
            unused.push_back(entry.index);
        }
        found = resolve::find_names(missing, resolve::inputs_for(unused), distro.id(), indexes.arch,
                                    options);
    } catch (const Error& error) {
        // The problem stands as it is; only the hint is lost.
        context.reporter.warning(fmt::format("cannot look for {} in the other components: {}",
                                             fmt::join(missing, ", "), describe(error)));
        return;
    }
    for (auto& problem : resolution.problems) {
        const auto where = found.find(problem.missing);
        if (where != found.end()) {
            problem.hint = distro.component_hint(problem.missing, indexes.unused[where->second]);
            problem.details.clear(); // a "did you mean" is beside the point now
        }
    }
}

PlanResult plan_manifest(manifest::Manifest parsed, const Settings& settings,
                         core::Reporter& reporter, IndexWarnings warnings) {
    PlanResult result;
    result.manifest = std::move(parsed);
    const auto& manifest = result.manifest;

    const core::Cache cache(settings.cache_dir.empty() ? core::Cache::default_root()
                                                       : settings.cache_dir);
    core::HttpClient http;
    sources::Context context{cache, http, reporter};
    const auto& distro = distro::get(manifest.distro);
    const auto repositories = distro.repositories(manifest);
    const auto policy = resolve::ExclusionPolicy::for_manifest(manifest);
    const auto archs = settings.archs.empty() ? sources::archs_for(manifest) : settings.archs;

    for (const auto& arch : archs) {
        reporter.stage(fmt::format("sources ({})", arch));
        auto indexes = with_context(fmt::format("fetching package indexes for {}", arch), [&] {
            return distro.fetch_indexes(repositories, arch, context);
        });
        const auto& stats = indexes.stats;
        reporter.info(fmt::format("{} release files checked ({} not modified), {} indexes "
                                  "downloaded, {} from cache, {} downloaded",
                                  stats.releases_checked, stats.releases_not_modified,
                                  stats.indexes_downloaded, stats.indexes_cached,
                                  core::human_size(stats.bytes_downloaded)));

        reporter.stage(fmt::format("resolve ({})", arch));
        resolve::Options options;
        options.cache = &cache;
        if (!settings.solver_debug_dir.empty()) {
            options.solver_debug_dir =
                archs.size() > 1 ? settings.solver_debug_dir / arch : settings.solver_debug_dir;
        }
        auto resolution =
            with_context(fmt::format("resolving {} for {}", manifest.name, arch), [&] {
                return resolve::resolve(
                    resolve::Request{manifest.distro, arch, manifest.packages, policy},
                    resolve::inputs_for(indexes.indexes), options, reporter);
            });
        explain_missing(distro, resolution, indexes, context, options);
        if (warnings == IndexWarnings::report) {
            for (const auto& warning : resolution.plan.warnings) {
                reporter.warning(fmt::format("{}: {}", arch, warning));
            }
        }
        std::vector<sources::Provenance> provenance;
        for (const auto& index : indexes.indexes) {
            provenance.push_back(index.provenance);
        }
        result.archs.push_back(ArchPlan{arch, std::move(resolution), stats, std::move(provenance)});
    }
    return result;
}

std::string problems_text(const PlanResult& planned) {
    std::string text;
    for (const auto& arch : planned.archs) {
        for (const auto& problem : arch.resolution.problems) {
            text += fmt::format("\n  - {} ({})", problem.summary, arch.arch);
            if (!problem.hint.empty()) {
                text += fmt::format("\n    hint: {}", problem.hint);
            }
        }
    }
    return text;
}

} // namespace

PlanResult plan(const std::filesystem::path& manifest_path, const Settings& settings,
                core::Reporter& reporter) {
    return plan_manifest(read_manifest(manifest_path), settings, reporter, IndexWarnings::report);
}

Resolved resolve_packages(const std::filesystem::path& manifest_path, const Settings& settings,
                          const LockSettings& lock_settings, core::Reporter& reporter,
                          IndexWarnings warnings) {
    Resolved resolved;
    resolved.manifest = read_manifest(manifest_path);
    const auto& manifest = resolved.manifest;
    LockUse& use = resolved.lock;
    use.path = lock_settings.path.empty() ? lock::path_for(manifest_path) : lock_settings.path;
    const auto archs = settings.archs.empty() ? sources::archs_for(manifest) : settings.archs;

    std::error_code error;
    const bool exists = std::filesystem::exists(use.path, error);
    if (lock_settings.mode == LockMode::frozen && !exists) {
        throw Error(fmt::format("--frozen needs a lock, and {} does not exist; write it with "
                                "`distill lock {}`",
                                use.path.string(), manifest_path.string()),
                    ExitCode::lock_mismatch);
    }
    if (exists && lock_settings.mode != LockMode::update) {
        const auto lock = lock::read(use.path);
        const bool same_manifest = lock.manifest_digest == lock::manifest_digest(manifest);
        if (same_manifest && lock.arch_names() == archs) {
            reporter.info(
                fmt::format("using the lock {}: exact versions, no solver run", use.path.string()));
            for (const auto& arch : lock.archs) {
                resolved.plans.push_back(lock::to_plan(arch));
            }
            use.used = true;
            use.reason = "the lock matches the manifest";
            return resolved;
        }
        const std::string why = !same_manifest
                                    ? "the manifest (or a manifest it includes) changed since "
                                      "the lock was written"
                                    : "the lock is for other architectures";
        if (lock_settings.mode == LockMode::frozen) {
            throw Error(fmt::format("--frozen: {} does not match {}: {}; update it with "
                                    "`distill lock {}`",
                                    use.path.string(), manifest_path.string(), why,
                                    manifest_path.string()),
                        ExitCode::lock_mismatch);
        }
        reporter.info(fmt::format("{}: resolving again", why));
        use.reason = why;
    } else {
        use.reason = exists ? "--update" : "there was no lock";
    }

    auto planned = plan_manifest(manifest, settings, reporter, warnings);
    if (!planned.solved()) {
        throw Error(fmt::format("cannot resolve the packages of {}:{}", manifest.name,
                                problems_text(planned)),
                    ExitCode::unsolvable);
    }
    for (auto& arch : planned.archs) {
        resolved.plans.push_back(std::move(arch.resolution.plan));
        resolved.provenance.insert(resolved.provenance.end(), arch.provenance.begin(),
                                   arch.provenance.end());
    }
    return resolved;
}

void write_lock(Resolved& resolved) {
    if (resolved.lock.used) {
        return;
    }
    lock::write(resolved.lock.path,
                lock::make(resolved.manifest, resolved.plans, resolved.provenance));
    resolved.lock.written = true;
}

} // namespace distill::pipeline
