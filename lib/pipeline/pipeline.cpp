#include <fmt/format.h>

#include <distill/core/cache.hpp>
#include <distill/core/http.hpp>
#include <distill/core/text.hpp>
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

PlanResult plan(const std::filesystem::path& manifest_path, const Settings& settings,
                core::Reporter& reporter) {
    PlanResult result;
    result.manifest = manifest::parse(manifest_path);
    manifest::validate(result.manifest);
    const auto& manifest = result.manifest;

    const core::Cache cache(settings.cache_dir.empty() ? core::Cache::default_root()
                                                       : settings.cache_dir);
    core::HttpClient http;
    sources::Context context{cache, http, reporter};
    const auto repositories = sources::repositories_for(manifest);
    const auto policy = resolve::ExclusionPolicy::for_manifest(manifest);
    const auto archs = settings.archs.empty() ? sources::archs_for(manifest) : settings.archs;

    for (const auto& arch : archs) {
        reporter.stage(fmt::format("sources ({})", arch));
        auto indexes = with_context(fmt::format("fetching package indexes for {}", arch), [&] {
            return sources::fetch_indexes(repositories, arch, context);
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
                return resolve::resolve(resolve::Request{arch, manifest.packages, policy},
                                        resolve::inputs_for(indexes.indexes), options, reporter);
            });
        result.archs.push_back(ArchPlan{arch, std::move(resolution), stats});
    }
    return result;
}

} // namespace distill::pipeline
