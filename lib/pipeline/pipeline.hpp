#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <distill/core/reporter.hpp>
#include <distill/manifest/manifest.hpp>
#include <distill/resolve/resolve.hpp>
#include <distill/sources/sources.hpp>

namespace distill::pipeline {

/// Settings that come from the command line rather than the manifest.
struct Settings {
    std::filesystem::path cache_dir;        ///< empty: core::Cache::default_root()
    std::vector<std::string> archs;         ///< empty: the manifest's (or the host's)
    std::filesystem::path solver_debug_dir; ///< empty: no libsolv testcase
};

/// The plan for one architecture and what it cost to make.
struct ArchPlan {
    std::string arch;
    resolve::Resolution resolution;
    sources::FetchStats stats;
};

/// What `distill plan` computes.
struct PlanResult {
    manifest::Manifest manifest;
    std::vector<ArchPlan> archs;

    /// Whether every architecture resolved.
    [[nodiscard]] bool solved() const;
};

/// Reads and validates the manifest, fetches and verifies its sources, and resolves the
/// closure for each architecture. Unsolvable requests come back as problems in the result.
[[nodiscard]] PlanResult plan(const std::filesystem::path& manifest_path, const Settings& settings,
                              core::Reporter& reporter);

} // namespace distill::pipeline
