#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <distill/core/text.hpp>
#include <distill/distro/facts.hpp>
#include <distill/lock/lock.hpp>
#include <distill/pipeline/steps.hpp>

namespace distill::pipeline {
namespace {

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

/// The lock that matches the manifest (and the archs asked for). nullopt when the lock cannot
/// be used; an Error when it must be (--frozen) and cannot. What it says is not trusted yet:
/// see vouch().
std::optional<lock::Lockfile> from_lock(const manifest::Loaded& loaded,
                                        const LockSettings& settings, LockUse& use,
                                        core::Reporter& reporter) {
    std::error_code error;
    const bool exists = std::filesystem::exists(use.path, error);
    const std::string manifest_path = loaded.path.string();
    if (settings.mode == LockMode::frozen && !exists) {
        throw Error(fmt::format("--frozen needs a lock, and {} does not exist; write it with "
                                "`distill lock {}`",
                                use.path.string(), manifest_path),
                    ExitCode::lock_mismatch);
    }
    if (!exists || settings.mode == LockMode::update) {
        use.reason = exists ? "--update" : "there was no lock";
        return std::nullopt;
    }
    const auto lock = lock::read(use.path);
    const bool same_manifest = lock.manifest_digest == lock::manifest_digest(loaded.manifest);
    if (same_manifest && lock.arch_names() == loaded.archs) {
        use.used = true;
        use.reason = "the lock matches the manifest";
        return lock;
    }
    const std::string why = !same_manifest
                                ? "the manifest (or a manifest it includes) changed since the "
                                  "lock was written"
                                : "the lock is for other architectures";
    if (settings.mode == LockMode::frozen) {
        throw Error(fmt::format("--frozen: {} does not match {}: {}; update it with `distill "
                                "lock {}`",
                                use.path.string(), manifest_path, why, manifest_path),
                    ExitCode::lock_mismatch);
    }
    reporter.info(fmt::format("{}: resolving again", why));
    use.reason = why;
    return std::nullopt;
}

/// How `locked` and what the signed indexes give (`vouched`) differ, for the first package
/// where they do; nullopt when they are the same packages, versions, files and hashes.
std::optional<std::string> difference(const resolve::Plan& locked, const resolve::Plan& vouched) {
    std::map<std::pair<std::string, std::string>, const package::Record*> given;
    for (const auto& package : vouched.packages) {
        given.emplace(std::pair{package.name, package.arch}, &package);
    }
    for (const auto& package : locked.packages) {
        const auto found = given.find({package.name, package.arch});
        const std::string name = core::printable(package.name);
        if (found == given.end()) {
            return fmt::format("it has {} {}, which the manifest does not need", name,
                               core::printable(package.version));
        }
        const auto& index = *found->second;
        if (index.version != package.version) {
            return fmt::format("it has {} {}, where the signed index has {}", name,
                               core::printable(package.version), index.version);
        }
        // An index that gives no SHA-256 of the file (Alpine's) names it by its own checksum,
        // which the reader checks on every read; the lock's SHA-256 is then the hash of the
        // file that passed that check.
        const bool same_file = index.sha256.empty() ? index.checksum == package.checksum
                                                    : index.sha256 == package.sha256;
        if (!same_file || index.download_size != package.download_size) {
            return fmt::format("its {} or size of {} {} is not the one the signed index "
                               "gives ({}, {} bytes)",
                               index.sha256.empty() ? "checksum" : "SHA-256", name, index.version,
                               index.sha256.empty() ? index.checksum : index.sha256,
                               index.download_size);
        }
        if (index.url != package.url) {
            return fmt::format("it fetches {} {} from {}, where the signed index has {}", name,
                               index.version, core::printable(package.url), index.url);
        }
        given.erase(found);
    }
    if (!given.empty()) {
        const auto& missing = *given.begin()->second;
        return fmt::format("it leaves out {} {}, which the manifest needs", missing.name,
                           missing.version);
    }
    return std::nullopt;
}

/// The packages the debug variant adds to the plan: the distro's busybox and what it needs
/// that the image lacks, resolved on their own (the image's exclusion policy keeps shells
/// out, not of the variant), marked as the variant's.
void add_debug_packages(const manifest::Manifest& manifest, const std::string& arch,
                        const sources::IndexSet& indexes, const resolve::Options& options,
                        resolve::Resolution& resolution, core::Reporter& reporter) {
    const auto& facts = distro::facts(manifest.distro);
    manifest::PackageRequest busybox;
    busybox.name = std::string(facts.busybox_package);
    busybox.where = manifest::Location{manifest.path, 0, 0};
    const resolve::Request request{manifest.distro, arch, {busybox}, resolve::ExclusionPolicy()};
    auto debug = with_context(
        fmt::format("resolving the debug variant's {} for {}", busybox.name, arch), [&] {
            return resolve::resolve(request, resolve::inputs_for(indexes.indexes), options,
                                    reporter);
        });
    if (!debug.solved()) {
        for (auto& problem : debug.problems) {
            problem.summary = fmt::format("the debug variant: {}", problem.summary);
            resolution.problems.push_back(std::move(problem));
        }
        return;
    }
    for (auto& package : debug.plan.packages) {
        const bool in_image =
            std::any_of(resolution.plan.packages.begin(), resolution.plan.packages.end(),
                        [&](const package::Record& mine) { return mine.name == package.name; });
        if (!in_image) {
            package.variant = manifest::k_variant_debug;
            resolution.plan.packages.push_back(std::move(package));
        }
    }
}

} // namespace

bool has_variant(const manifest::Manifest& manifest, std::string_view variant) {
    return std::any_of(manifest.variants.begin(), manifest.variants.end(),
                       [&](const manifest::Located& v) { return v.value == variant; });
}

std::vector<resolve::Plan> vouch(Session& session, const manifest::Loaded& loaded,
                                 const Settings& settings, const lock::Lockfile& lock,
                                 const LockUse& use) {
    sources::PinnedReleases pinned;
    for (const auto& source : lock.sources) {
        pinned.emplace(source.release, source.sha256);
    }
    Planner planner(session, loaded, settings, &pinned);
    std::vector<resolve::Plan> plans;
    for (const auto& locked_arch : lock.archs) {
        auto locked = lock::to_plan(locked_arch);
        auto planned = planner.plan(locked_arch.arch, IndexWarnings::leave);
        std::optional<std::string> problem;
        if (!planned.resolution.solved()) {
            problem = fmt::format("the manifest does not resolve against the signed indexes: {}",
                                  planned.resolution.problems.front().summary);
        } else {
            problem = difference(locked, planned.resolution.plan);
        }
        if (problem) {
            // Every release file was the lock's own copy unless one had to be asked for.
            const bool as_made = planned.stats.releases_checked == 0;
            throw VerificationError(fmt::format(
                "the lock {} does not hold what {} give for {} ({}): {}; {}: run `distill lock "
                "--update` to resolve from the signed indexes again, and review what changes",
                use.path.string(),
                as_made ? "the signed indexes it was made from" : "the mirror's signed indexes now",
                locked_arch.arch, loaded.manifest.name, *problem,
                as_made ? "a lock pins versions, it does not vouch for them"
                        : "the cache lacks the release files the lock was made from, so only the "
                          "current ones can vouch for it. Either the mirror no longer serves the "
                          "locked versions or the lock was edited"));
        }
        session.reporter().info(fmt::format("using the lock {}: {} packages for {}, each as a "
                                            "signed index gives it",
                                            use.path.string(), locked.packages.size(),
                                            locked_arch.arch));
        plans.push_back(std::move(planned.resolution.plan));
    }
    return plans;
}

bool PlanResult::solved() const {
    for (const auto& arch : archs) {
        if (!arch.resolution.solved()) {
            return false;
        }
    }
    return true;
}

Planner::Planner(Session& session, const manifest::Loaded& loaded, const Settings& settings,
                 const sources::PinnedReleases* pinned)
    : m_session(session)
    , m_loaded(loaded)
    , m_settings(settings)
    , m_distro(distro::get(loaded.manifest))
    , m_repositories(m_distro.repositories(loaded.manifest))
    , m_pinned(pinned) {}

ArchPlan Planner::plan(const std::string& arch, IndexWarnings warnings) {
    const auto& manifest = m_loaded.manifest;
    auto& reporter = m_session.reporter();
    sources::Context context{m_session.cache(), m_session.http(), reporter};
    context.pinned = m_pinned;
    reporter.stage(fmt::format("sources ({})", arch));
    auto indexes = with_context(fmt::format("fetching package indexes for {}", arch), [&] {
        return m_distro.fetch_indexes(m_repositories, arch, context);
    });
    const auto& stats = indexes.stats;
    const std::string pinned =
        stats.releases_pinned == 0
            ? std::string()
            : fmt::format(", {} from the cache as the lock names them", stats.releases_pinned);
    reporter.info(fmt::format("{} release files checked ({} not modified{}), {} indexes "
                              "downloaded, {} from cache, {} downloaded",
                              stats.releases_checked + stats.releases_pinned,
                              stats.releases_not_modified, pinned, stats.indexes_downloaded,
                              stats.indexes_cached, core::human_size(stats.bytes_downloaded)));

    reporter.stage(fmt::format("resolve ({})", arch));
    resolve::Options options;
    options.cache = &m_session.cache();
    if (!m_settings.solver_debug_dir.empty()) {
        options.solver_debug_dir = m_loaded.archs.size() > 1 ? m_settings.solver_debug_dir / arch
                                                             : m_settings.solver_debug_dir;
    }
    const resolve::Request request{manifest.distro, arch, manifest.packages,
                                   resolve::ExclusionPolicy::for_manifest(manifest)};
    auto resolution = with_context(fmt::format("resolving {} for {}", manifest.name, arch), [&] {
        return resolve::resolve(request, resolve::inputs_for(indexes.indexes), options, reporter);
    });
    explain_missing(m_distro, resolution, indexes, context, options);
    if (resolution.solved() && has_variant(manifest, manifest::k_variant_debug)) {
        add_debug_packages(manifest, arch, indexes, options, resolution, reporter);
    }
    if (warnings == IndexWarnings::report) {
        for (const auto& warning : resolution.plan.warnings) {
            reporter.warning(fmt::format("{}: {}", arch, warning));
        }
    }
    std::vector<sources::Provenance> provenance;
    for (const auto& index : indexes.indexes) {
        provenance.push_back(index.provenance);
    }
    return ArchPlan{arch, std::move(resolution), stats, std::move(provenance)};
}

PlanResult plan(Session& session, const manifest::Loaded& loaded, const Settings& settings) {
    PlanResult result{loaded.manifest, {}};
    Planner planner(session, loaded, settings);
    for (const auto& arch : loaded.archs) {
        result.archs.push_back(planner.plan(arch, IndexWarnings::report));
    }
    return result;
}

Resolved resolve_packages(Session& session, const manifest::Loaded& loaded,
                          const Settings& settings, const LockSettings& lock_settings,
                          IndexWarnings warnings) {
    Resolved resolved{loaded.manifest, {}, {}, {}};
    resolved.lock.path =
        lock_settings.path.empty() ? lock::path_for(loaded.path) : lock_settings.path;
    if (auto lock = from_lock(loaded, lock_settings, resolved.lock, session.reporter())) {
        resolved.plans = vouch(session, loaded, settings, *lock, resolved.lock);
        return resolved;
    }
    Planner planner(session, loaded, settings);
    std::vector<resolve::Unsolved> unsolved;
    for (const auto& arch : loaded.archs) {
        auto planned = planner.plan(arch, warnings);
        if (!planned.resolution.solved()) {
            unsolved.push_back({arch, std::move(planned.resolution.problems)});
            continue;
        }
        resolved.plans.push_back(std::move(planned.resolution.plan));
        resolved.provenance.insert(resolved.provenance.end(), planned.provenance.begin(),
                                   planned.provenance.end());
    }
    if (!unsolved.empty()) {
        throw resolve::UnsolvableError(loaded.manifest.name, std::move(unsolved));
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
