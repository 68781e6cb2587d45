#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <distill/image/compress.hpp>
#include <distill/image/layer.hpp>
#include <distill/image/oci.hpp>
#include <distill/manifest/manifest.hpp>
#include <distill/pipeline/session.hpp>
#include <distill/resolve/resolve.hpp>
#include <distill/runtime/profile.hpp>
#include <distill/sources/sources.hpp>
#include <distill/unpack/tree.hpp>

namespace distill::pipeline {

/// Settings of the resolve step that come from the command line rather than the manifest (the
/// cache, threads and epoch are the Session's; the archs the loaded manifest's).
struct Settings {
    std::filesystem::path solver_debug_dir; ///< empty: no libsolv testcase
};

/// The plan for one architecture and what it cost to make.
struct ArchPlan {
    std::string arch;
    resolve::Resolution resolution;
    sources::FetchStats stats;
    /// The signed release files that vouched for the indexes resolved from.
    std::vector<sources::Provenance> provenance;
};

/// Whether the manifest asks for the variant `variant` (manifest::k_variant_debug, ...).
[[nodiscard]] bool has_variant(const manifest::Manifest& manifest, std::string_view variant);

/// How many packages of the plan the image has (the variants' own left out).
[[nodiscard]] std::size_t image_packages(const resolve::Plan& plan);

/// What `distill plan` computes.
struct PlanResult {
    manifest::Manifest manifest;
    std::vector<ArchPlan> archs;

    /// Whether every architecture resolved.
    [[nodiscard]] bool solved() const;
};

/// Fetches and verifies the manifest's sources and resolves the closure for each
/// architecture. Unsolvable requests come back as problems in the result; a requested package
/// that only a component the manifest does not use has gets a hint saying how to add it.
/// Packages that look like installers are reported as warnings.
[[nodiscard]] PlanResult plan(Session& session, const manifest::Loaded& loaded,
                              const Settings& settings);

/// Whether a build may use, must use or must renew the lock.
enum class LockMode {
    automatic, ///< use the lock when it matches the manifest, else resolve and rewrite it
    frozen,    ///< use the lock; fail when it is missing or the manifest changed since
    update,    ///< resolve afresh and rewrite the lock
};

/// Where the lock is and how to treat it.
struct LockSettings {
    LockMode mode = LockMode::automatic;
    std::filesystem::path path; ///< empty: beside the manifest (lock::path_for)
};

/// What became of the lock.
struct LockUse {
    std::filesystem::path path;
    bool used = false;    ///< the packages came from it (checked against signed indexes)
    bool written = false; ///< it was written (new, or renewed)
    std::string reason;   ///< why it was (not) used, for the report
};

/// The packages to install, from the solver or from the lock: one plan per architecture, whose
/// records the later steps fill in.
struct Resolved {
    manifest::Manifest manifest;
    std::vector<resolve::Plan> plans;
    LockUse lock;
    std::vector<sources::Provenance> provenance;
};

/// Whether the warnings the indexes give about planned packages (packages that look like
/// installers, see Plan::warnings) are reported.
enum class IndexWarnings {
    report,
    leave, ///< the caller judges the packages themselves (build)
};

/// The resolve step: the manifest's packages from the lock when it matches the manifest and
/// signed indexes vouch for every package of it (vouch() in steps.hpp), otherwise by resolving (an
/// unsolvable request is a resolve::UnsolvableError, exit code 6, carrying the problems). The lock
/// is not written here: write_lock() does that once the caller succeeded.
[[nodiscard]] Resolved resolve_packages(Session& session, const manifest::Loaded& loaded,
                                        const Settings& settings, const LockSettings& lock,
                                        IndexWarnings warnings = IndexWarnings::report);

/// The lock step: writes the lock of a resolution that did not come from the lock; no-op
/// otherwise.
void write_lock(Resolved& resolved);

/// How `distill build` writes its result.
enum class OutputFormat { layout, oci_archive, docker_archive };

/// Settings of `distill build` beyond those of `plan`.
struct BuildSettings {
    Settings plan;
    LockSettings lock;
    std::filesystem::path output; ///< empty: out/<name> (out/<name>.tar for archives)
    OutputFormat format = OutputFormat::layout;
    image::Compression compression = image::Compression::gzip;
    /// A bare tag (`1.2`) or a whole reference (`registry.example.org/team/app:1.2`), see
    /// image::parse_tag_option. A layout's index.json names the image by a bare tag alone; the
    /// archives name it NAME:TAG (NAME from the manifest), in index.json and in a
    /// docker-archive's manifest.json. A whole reference is written as it is everywhere.
    std::string tag = "latest";
    /// Write the SBOMs (SPDX and CycloneDX) of each image: in a layout as artifacts whose
    /// subject is the image; an archive, which `podman load` takes only with one image in it,
    /// leaves them to `sbom_dir`.
    bool sbom = true;
    /// Also write the SBOMs here, as NAME-ARCH.spdx.json and NAME-ARCH.cdx.json (empty: no).
    std::filesystem::path sbom_dir;
};

/// One SBOM of an image, as stored.
struct SbomDocument {
    std::string format;         ///< "spdx" or "cyclonedx"
    std::string media_type;     ///< application/spdx+json, application/vnd.cyclonedx+json
    std::string bytes;          ///< the document
    image::Descriptor document; ///< its blob
    image::Descriptor artifact; ///< the artifact manifest that carries it
};

/// A variant of the image for one architecture (manifest::Manifest::variants).
struct VariantImage {
    std::string name; ///< "debug", "root"
    image::Descriptor manifest;
    image::Descriptor config;
    std::optional<image::Layer> layer; ///< the layer it adds (debug), on top of the image's
    std::string adds;                  ///< what it adds, in a sentence
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
    /// What the user should know about the image: packages whose content their maintainer
    /// scripts would have made at install time.
    std::vector<std::string> warnings;
    image::Platform platform;
    std::vector<SbomDocument> sboms{}; ///< empty when the build writes none
    std::vector<VariantImage> variants{};
    runtime::Settings settings{}; ///< how the image runs with the least privilege it needs
};

/// A variant as the output names it.
struct VariantResult {
    std::string name;
    std::string ref_name; ///< its tag (TAG-VARIANT) or whole reference, as index.json has it
    std::string digest;   ///< of its manifest, or of its image index for several archs
    std::string adds;
};

/// What `distill build` made.
struct BuildResult {
    std::string name;
    std::string digest;     ///< of the manifest, or of the image index for several archs
    std::string media_type; ///< what `digest` names: an image manifest or an image index
    /// The org.opencontainers.image.ref.name annotation in index.json: the bare tag, or the
    /// whole reference.
    std::string ref_name;
    /// Archives: the fully qualified name `docker load` and `podman load` give the image
    /// (`docker.io/library/static:latest`, `localhost/team/static:1`); empty for a layout.
    std::string image_name;
    std::filesystem::path output;
    std::uint64_t archive_size = 0; ///< bytes of the archive file; 0 for a layout
    /// The layers' compression (none in a docker-archive, whatever was asked).
    image::Compression compression = image::Compression::gzip;
    OutputFormat format = OutputFormat::layout;
    std::int64_t epoch = 0;
    std::vector<ArchImage> archs;
    /// The digest the output had before this build (empty: there was none).
    std::string previous_digest;
    LockUse lock;
    std::vector<VariantResult> variants{};
    /// The seccomp profile written beside the output (OUTPUT.seccomp.json).
    std::filesystem::path seccomp_file{};
};

/// Where a build writes the seccomp profile of the image it writes at `output`: beside it,
/// named after it (out/app -> out/app.seccomp.json, out/app.tar -> out/app.seccomp.json).
[[nodiscard]] std::filesystem::path seccomp_file_for(const std::filesystem::path& output,
                                                     OutputFormat format);

/// "layout", "oci-archive", "docker-archive".
[[nodiscard]] std::string to_string(OutputFormat format);

/// Resolves, fetches, unpacks, assembles, writes the layer and the image, and the lock
/// (steps.hpp). The output appears only when everything succeeded: a failed or interrupted
/// build leaves the previous output as it was. An unsolvable request is a
/// resolve::UnsolvableError (exit code 6).
[[nodiscard]] BuildResult build(Session& session, const manifest::Loaded& loaded,
                                const BuildSettings& settings);

/// What `distill verify` found.
struct VerifyResult {
    std::string expected; ///< the digest of the layout given
    std::string actual;   ///< the digest of the rebuild
    /// When they differ: the first difference, in the user's terms ("/etc/app.conf: content
    /// differs", "the image config differs: created ...").
    std::string difference;

    [[nodiscard]] bool reproduced() const { return expected == actual; }
};

/// Says how two image layouts differ (the layout given, then the rebuild): diff::first_difference.
using Explain =
    std::function<std::string(const std::filesystem::path&, const std::filesystem::path&)>;

/// Rebuilds the image of the manifest from its lock (never re-resolving) into a scratch
/// directory and compares it with the layout: the same digest, or `explain`'s account of the
/// first difference.
[[nodiscard]] VerifyResult verify(Session& session, const std::filesystem::path& layout,
                                  const manifest::Loaded& loaded, const BuildSettings& settings,
                                  const Explain& explain);

} // namespace distill::pipeline
