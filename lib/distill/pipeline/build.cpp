#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <distill/assemble/assemble.hpp>
#include <distill/core/cache.hpp>
#include <distill/core/parallel.hpp>
#include <distill/core/text.hpp>
#include <distill/diff/diff.hpp>
#include <distill/distro/distro.hpp>
#include <distill/fetch/fetch.hpp>
#include <distill/image/oci.hpp>
#include <distill/image/output.hpp>
#include <distill/image/reference.hpp>
#include <distill/pipeline/pipeline.hpp>
#include <distill/unpack/unpack.hpp>

namespace distill::pipeline {
namespace {

namespace fs = std::filesystem;

/// SOURCE_DATE_EPOCH when set (it must be a number), else `fallback`.
std::int64_t epoch_from_environment(std::int64_t fallback) {
    const char* text = std::getenv("SOURCE_DATE_EPOCH");
    if (text == nullptr || *text == '\0') {
        return fallback;
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

fs::path default_output(const std::string& name, OutputFormat format) {
    return format == OutputFormat::layout ? fs::path("out") / name
                                          : fs::path("out") / (name + ".tar");
}

struct Unpacked {
    std::vector<unpack::UnpackedPackage> packages;
    std::int64_t newest = 0; ///< the newest package's build date
    std::vector<std::string> warnings;
};

/// Packages whose content their maintainer scripts make at install time, judged by what each
/// package holds: the image will lack that content.
std::vector<std::string>
install_time_warnings(const distro::Distro& distro, const resolve::Plan& plan,
                      const std::vector<unpack::UnpackedPackage>& unpacked) {
    std::vector<std::string> warnings;
    for (std::size_t i = 0; i < plan.packages.size(); ++i) {
        if (const auto reason = distro.installer_by_package(unpacked[i])) {
            warnings.push_back(fmt::format("{}: {}: what it would download or make at install "
                                           "time will not be in the image (distill runs no "
                                           "maintainer script)",
                                           plan.packages[i].name, *reason));
        }
    }
    return warnings;
}

Unpacked fetch_and_unpack(const distro::Distro& distro, const resolve::Plan& plan,
                          const core::Cache& cache, int jobs, const LockUse& lock,
                          core::Reporter& reporter) {
    reporter.stage(fmt::format("fetch ({})", plan.arch));
    std::vector<fetch::Download> downloads;
    for (const auto& package : plan.packages) {
        downloads.push_back(fetch::Download{fmt::format("{} {}", package.name, package.version),
                                            {package.url},
                                            package.sha256,
                                            package.download_size});
    }
    fetch::Options options;
    const auto fetched = with_context("fetching packages", [&] {
        try {
            return fetch::fetch_all(downloads, cache, options, reporter);
        } catch (const core::NetworkError& error) {
            if (!lock.used || error.http_status() != 404) {
                throw;
            }
            // A locked version the mirror dropped (a security update replaced it): never
            // another version behind the user's back.
            throw core::NetworkError(
                fmt::format("{}; the lock {} names a version the mirror no longer serves: run "
                            "`distill lock --update` to resolve the current versions",
                            error.what(), lock.path.string()),
                404);
        }
    });
    for (const auto& package : plan.packages) {
        diff::remember_deb(cache,
                           diff::Package{package.name, package.version, package.arch,
                                         package.source, package.installed_size, package.sha256,
                                         package.url, package.download_size});
    }
    reporter.info(fmt::format("{} packages: {} downloaded ({}), {} from cache", downloads.size(),
                              fetched.downloaded, core::human_size(fetched.bytes), fetched.cached));

    reporter.stage(fmt::format("unpack ({})", plan.arch));
    std::vector<unpack::Input> inputs;
    for (std::size_t i = 0; i < plan.packages.size(); ++i) {
        const auto& package = plan.packages[i];
        unpack::Limits limits;
        // The verified index says how big the package is once installed (in KiB, rounded);
        // twice that and some slack bounds what its archive may expand to.
        limits.max_bytes = 2 * package.installed_size + (64U << 20U);
        inputs.push_back(
            unpack::Input{fetched.paths[i], package.sha256, downloads[i].label, limits});
    }
    Unpacked out;
    out.packages = unpack::unpack_all(inputs, distro.reader(), cache, jobs, reporter);
    for (const auto& package : out.packages) {
        out.newest = std::max(out.newest, package.date);
    }
    out.warnings = install_time_warnings(distro, plan, out.packages);
    for (const auto& warning : out.warnings) {
        reporter.warning(fmt::format("{}: {}", plan.arch, warning));
    }
    return out;
}

} // namespace

std::string to_string(OutputFormat format) {
    switch (format) {
    case OutputFormat::layout:
        return "layout";
    case OutputFormat::oci_archive:
        return "oci-archive";
    case OutputFormat::docker_archive:
        return "docker-archive";
    }
    return "?";
}

BuildResult build(const fs::path& manifest_path, const BuildSettings& settings,
                  core::Reporter& reporter) {
    // A bad tag is a usage error: found before anything is downloaded.
    const image::Reference tag = image::parse_tag_option(settings.tag);
    // The packages themselves tell better than the index which ones only a maintainer script
    // would have completed; they are judged once unpacked.
    Resolved resolved = resolve_packages(manifest_path, settings.plan, settings.lock, reporter,
                                         IndexWarnings::leave);
    const manifest::Manifest manifest = manifest::with_defaults(resolved.manifest);
    const auto& distro = distro::get(manifest.distro);
    // An archive is loaded by name (`docker load`, `podman load`), so it names the image fully:
    // NAME:TAG for a bare tag. A layout keeps a bare tag as its ref name, which `oci:DIR:TAG`
    // looks up.
    const bool archive = settings.format != OutputFormat::layout;
    const image::Reference reference =
        archive || !tag.bare_tag() ? image::reference_for(manifest.name, tag) : tag;
    // Packages go into the tree in name order, whether they come from the solver (in install
    // order) or from the lock (sorted): the image must not depend on which.
    for (auto& plan : resolved.plans) {
        std::sort(plan.packages.begin(), plan.packages.end(),
                  [](const resolve::PlannedPackage& a, const resolve::PlannedPackage& b) {
                      return std::tie(a.name, a.arch) < std::tie(b.name, b.arch);
                  });
    }
    if (settings.format == OutputFormat::docker_archive && resolved.plans.size() > 1) {
        throw Error("a docker-archive holds one architecture; pick one with --arch, or use the "
                    "layout or oci-archive format",
                    ExitCode::usage);
    }
    const core::Cache cache(settings.plan.cache_dir.empty() ? core::Cache::default_root()
                                                            : settings.plan.cache_dir);
    const int jobs = settings.jobs > 0 ? settings.jobs : core::default_jobs();

    BuildResult result;
    result.name = manifest.name;
    result.format = settings.format;
    result.output =
        settings.output.empty() ? default_output(manifest.name, settings.format) : settings.output;
    result.previous_digest = image::existing_digest(result.output).value_or("");
    // Everything is written beside the output and put in place at the very end.
    const core::TempDir staging = image::staging_dir_for(result.output);
    const fs::path layout_dir =
        settings.format == OutputFormat::layout ? staging.path() : staging.path() / "layout";
    image::LayoutWriter layout(layout_dir);
    const auto compression = settings.format == OutputFormat::docker_archive
                                 ? image::Compression::none
                                 : settings.compression;
    result.compression = compression;

    // The trees of all architectures are built first, so that one epoch (the newest package
    // of any of them) stamps every image of a multi-arch build.
    std::vector<Unpacked> unpacked;
    std::int64_t newest = 0;
    for (const auto& plan : resolved.plans) {
        unpacked.push_back(
            with_context(fmt::format("building {} for {}", manifest.name, plan.arch), [&] {
                return fetch_and_unpack(distro, plan, cache, jobs, resolved.lock, reporter);
            }));
        newest = std::max(newest, unpacked.back().newest);
    }
    result.epoch = epoch_from_environment(newest);

    std::vector<image::IndexEntry> index;
    std::vector<image::Platform> platforms;
    image::Descriptor last_config;
    image::Descriptor last_layer;
    for (std::size_t a = 0; a < resolved.plans.size(); ++a) {
        const auto& plan = resolved.plans[a];
        with_context(fmt::format("building {} for {}", manifest.name, plan.arch), [&] {
            reporter.stage(fmt::format("assemble ({})", plan.arch));
            unpack::Tree tree(unpack::Tree::Options{distro.merged_usr(manifest.release),
                                                    unpack::PathPolicy::for_manifest(manifest)});
            for (std::size_t i = 0; i < plan.packages.size(); ++i) {
                tree.add_package(plan.packages[i].name, plan.packages[i].arch,
                                 unpacked[a].packages[i]);
            }
            tree.finish();
            const auto summary = assemble::assemble(tree, manifest, result.epoch, reporter);
            reporter.info(fmt::format(
                "{} paths; dropped {} files ({}) by the path policy, {} setuid/setgid bits; {} CA "
                "certificates ({} hash links){}; accounts {}",
                tree.entries().size(), tree.trimmed().files, core::human_size(tree.trimmed().bytes),
                tree.trimmed().setuid_cleared, summary.ca_certificates, summary.hash_links,
                summary.java_truststore ? " (and the Java truststore)" : "",
                fmt::join(summary.accounts, ", ")));

            reporter.stage(fmt::format("layer ({})", plan.arch));
            image::LayerOptions layer_options{compression, jobs, result.epoch};
            const auto layer =
                image::write_layer(tree, layer_options, layout.blobs_dir(), reporter);

            image::ConfigInput config;
            config.platform = image::platform_for(manifest.distro, plan.arch);
            config.config = manifest.config;
            config.user = assemble::resolve_user(manifest);
            config.epoch = result.epoch;
            config.diff_id = layer.diff_id;
            config.history = fmt::format("distill build {} ({} {}, {} packages)", manifest.name,
                                         manifest::to_string(manifest.distro), manifest.release,
                                         plan.packages.size());
            const auto config_blob =
                layout.put(image::k_config_media_type, image::config_json(config));
            const auto manifest_blob = layout.put(
                image::k_manifest_media_type, image::manifest_json(config_blob, layer.blob, {}));
            index.push_back({manifest_blob, config.platform});
            platforms.push_back(config.platform);
            last_config = config_blob;
            last_layer = layer.blob;

            std::uint64_t bytes = 0;
            for (const auto& [path, entry] : tree.entries()) {
                bytes += entry.size;
            }
            result.archs.push_back(ArchImage{plan.arch, manifest_blob, config_blob, layer,
                                             plan.packages.size(), bytes, tree.trimmed(),
                                             unpacked[a].warnings});
            reporter.info(fmt::format("layer {} ({}, {} uncompressed, {} files)", layer.blob.digest,
                                      core::human_size(layer.blob.size),
                                      core::human_size(layer.tar_size), layer.files));
        });
    }

    const image::Descriptor top =
        index.size() == 1 ? index.front().manifest
                          : layout.put(image::k_index_media_type, image::index_json(index));
    result.ref_name = reference.bare_tag() ? reference.tag : reference.str();
    std::map<std::string, std::string> annotations{{image::k_ref_name_annotation, result.ref_name}};
    if (archive) {
        // Podman, containerd and newer docker take the name from here, docker 20.10 from the
        // RepoTags of manifest.json: both say the same qualified name.
        result.image_name = reference.qualified();
        annotations.emplace(image::k_image_name_annotation, result.image_name);
    }
    layout.finish(top, annotations, platforms);
    result.digest = top.digest;
    result.media_type = top.media_type;

    reporter.stage("output");
    if (settings.format == OutputFormat::layout) {
        std::filesystem::permissions(layout_dir, fs::perms(0755));
        image::publish_layout(layout_dir, result.output);
    } else {
        std::optional<std::string> docker;
        if (settings.format == OutputFormat::docker_archive) {
            docker = image::docker_manifest_json(last_config, last_layer, reference.str());
        }
        image::write_layout_archive(layout_dir, result.output, result.epoch, docker);
        result.archive_size = fs::file_size(result.output);
    }
    write_lock(resolved);
    result.lock = resolved.lock;
    return result;
}

} // namespace distill::pipeline
