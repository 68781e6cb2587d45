#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <distill/core/reporter.hpp>
#include <distill/image/compress.hpp>
#include <distill/image/layer.hpp>
#include <distill/manifest/manifest.hpp>
#include <distill/resolve/resolve.hpp>
#include <distill/sources/sources.hpp>
#include <distill/unpack/tree.hpp>

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

/// How `distill build` writes its result.
enum class OutputFormat { layout, oci_archive, docker_archive };

/// Settings of `distill build` beyond those of `plan`.
struct BuildSettings {
    Settings plan;
    std::filesystem::path output; ///< empty: out/<name> (out/<name>.tar for archives)
    OutputFormat format = OutputFormat::layout;
    image::Compression compression = image::Compression::gzip;
    std::string tag = "latest"; ///< the ref name in index.json
    int jobs = 0;               ///< 0: one per processor
};

/// The image for one architecture.
struct ArchImage {
    std::string arch;
    image::Descriptor manifest;
    image::Descriptor config;
    image::Layer layer;
    std::size_t packages = 0;
    std::uint64_t unpacked_bytes = 0; ///< bytes of regular files in the image
    unpack::Trimmed trimmed;
};

/// What `distill build` made.
struct BuildResult {
    std::string name;
    std::string digest; ///< of the manifest, or of the image index for several archs
    std::filesystem::path output;
    OutputFormat format = OutputFormat::layout;
    std::int64_t epoch = 0;
    std::vector<ArchImage> archs;
    /// The digest the output had before this build (empty: there was none).
    std::string previous_digest;
};

/// "layout", "oci-archive", "docker-archive".
[[nodiscard]] std::string to_string(OutputFormat format);

/// Plans, fetches, unpacks, assembles and writes the image. The output appears only when
/// everything succeeded: a failed or interrupted build leaves the previous output as it was.
/// An unsolvable request is an error listing the problems (exit code 6).
[[nodiscard]] BuildResult build(const std::filesystem::path& manifest_path,
                                const BuildSettings& settings, core::Reporter& reporter);

} // namespace distill::pipeline
