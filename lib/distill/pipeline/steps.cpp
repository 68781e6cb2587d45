#include <algorithm>
#include <array>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <distill/assemble/assemble.hpp>
#include <distill/assemble/busybox.hpp>
#include <distill/core/cancel.hpp>
#include <distill/core/digest.hpp>
#include <distill/core/text.hpp>
#include <distill/distro/facts.hpp>
#include <distill/fetch/fetch.hpp>
#include <distill/image/oci.hpp>
#include <distill/pipeline/steps.hpp>
#include <distill/runtime/profile.hpp>
#include <distill/sbom/sbom.hpp>
#include <distill/unpack/path_policy.hpp>
#include <distill/unpack/unpack.hpp>

namespace distill::pipeline {

void fetch(Session& session, const distro::Distro& distro, resolve::Plan& plan,
           const LockUse& lock) {
    auto& reporter = session.reporter();
    reporter.stage(fmt::format("fetch ({})", plan.arch));
    std::vector<fetch::Download> downloads;
    for (auto& package : plan.packages) {
        if (package.sha256.empty()) {
            // The index names the file by the distro's own checksum: the file noted for this
            // version last time is used when the cache has it (the reader checks that
            // checksum again as it reads it), else it is downloaded and checked.
            if (auto noted = package::remembered_file(session.cache(), package.name,
                                                      package.version, package.arch);
                noted && core::is_sha256_hex(*noted) && session.cache().has_blob(*noted)) {
                package.sha256 = *noted;
            }
        }
        fetch::Download download{
            package::label(package), {package.url}, package.sha256, package.download_size};
        if (package.sha256.empty()) {
            download.check = [&distro, &package](const std::filesystem::path& file,
                                                 const std::string& url) {
                distro.check_download(file, package, url);
            };
        }
        downloads.push_back(std::move(download));
    }
    fetch::Options options;
    options.parallel = session.transfers();
    const auto fetched = with_context("fetching packages", [&] {
        try {
            return fetch::fetch_all(downloads, session.cache(), options, reporter);
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
    for (std::size_t i = 0; i < plan.packages.size(); ++i) {
        plan.packages[i].file = fetched.paths[i];
        plan.packages[i].sha256 = fetched.sha256s[i];
        package::remember_file(session.cache(), plan.packages[i]);
    }
    reporter.info(fmt::format("{} packages: {} downloaded ({}), {} from cache", downloads.size(),
                              fetched.downloaded, core::human_size(fetched.bytes), fetched.cached));
}

namespace {

/// The image config of the plan's image (or a variant of it) running as `user` ("uid:gid"),
/// with the runtime profile in its labels.
image::ConfigInput config_input(const manifest::Manifest& manifest, const resolve::Plan& plan,
                                std::int64_t epoch, const std::string& diff_id,
                                const std::string& user) {
    image::ConfigInput config;
    config.platform = image::platform_for(manifest.distro, plan.arch);
    config.config = manifest.config;
    config.user = user;
    config.epoch = epoch;
    config.diff_id = diff_id;
    config.history =
        fmt::format("distill build {} ({} {}, {} packages)", manifest.name,
                    manifest::to_string(manifest.distro), manifest.release, image_packages(plan));
    const auto settings = runtime::settings_for(manifest, user);
    config.config.labels[runtime::k_seccomp_label] = runtime::seccomp_profile(settings);
    config.config.labels[runtime::k_settings_label] = runtime::settings_json(settings);
    return config;
}

unpack::Input unpack_input(const package::Record& package) {
    unpack::Limits limits;
    // The verified index says how big the package is once installed (in KiB, rounded); twice
    // that and some slack bounds what its archive may expand to.
    limits.max_bytes = 2 * package.installed_size + (64U << 20U);
    unpack::Input input{package.file, package.sha256, package::label(package), limits};
    input.identity = package.checksum;
    return input;
}

} // namespace

void unpack(Session& session, const distro::Distro& distro, resolve::Plan& plan) {
    auto& reporter = session.reporter();
    reporter.stage(fmt::format("unpack ({})", plan.arch));
    std::vector<unpack::Input> inputs;
    for (const auto& package : plan.packages) {
        inputs.push_back(unpack_input(package));
    }
    std::vector<std::size_t> damaged;
    auto unpacked = unpack::unpack_all(inputs, distro.reader(), session.cache(), session.jobs(),
                                       reporter, &damaged);
    if (!damaged.empty()) {
        // Package files the cache held damaged are gone from it: fetched again (verified as
        // they arrive) and read again; damage now is an error.
        resolve::Plan again;
        again.arch = plan.arch;
        std::vector<unpack::Input> again_inputs;
        for (const auto i : damaged) {
            again.packages.push_back(plan.packages[i]);
            again_inputs.push_back(inputs[i]);
        }
        fetch(session, distro, again, LockUse{});
        auto redone = unpack::unpack_all(again_inputs, distro.reader(), session.cache(),
                                         session.jobs(), reporter);
        for (std::size_t k = 0; k < damaged.size(); ++k) {
            unpacked[damaged[k]] = std::move(redone[k]);
        }
    }
    // The packages themselves tell better than the index which ones only a maintainer script
    // would have completed.
    plan.warnings.clear();
    for (std::size_t i = 0; i < plan.packages.size(); ++i) {
        auto& package = plan.packages[i];
        package.contents = std::make_shared<const unpack::UnpackedPackage>(std::move(unpacked[i]));
        distro.check_identity(*package.contents, package::label(package), package.name,
                              package.version, package.arch);
        if (const auto reason = distro.installer_by_package(*package.contents)) {
            plan.warnings.push_back(fmt::format("{}: {}: what it would download or make at "
                                                "install time will not be in the image (distill "
                                                "runs no maintainer script)",
                                                package.name, *reason));
        }
    }
    for (const auto& warning : plan.warnings) {
        reporter.warning(fmt::format("{}: {}", plan.arch, warning));
    }
}

void remake_unpacked(Session& session, const distro::Distro& distro, resolve::Plan& plan,
                     const core::CacheDamageError& damage) {
    for (auto& package : plan.packages) {
        if (!package.contents || package.contents->pack != damage.path()) {
            continue;
        }
        session.reporter().warning(fmt::format("{}; making it again", damage.what()));
        const auto input = unpack_input(package);
        unpack::drop_unpacked(input, session.cache());
        package.contents = std::make_shared<const unpack::UnpackedPackage>(
            unpack::unpack(input, distro.reader(), session.cache()));
        return;
    }
    throw damage; // not a pack of this plan: nothing to make again
}

std::int64_t newest_build_date(const std::vector<resolve::Plan>& plans) {
    std::int64_t newest = 0;
    for (const auto& plan : plans) {
        for (const auto& package : plan.packages) {
            if (package.contents) {
                newest = std::max(newest, package.contents->date);
            }
        }
    }
    return newest;
}

unpack::Tree assemble(Session& session, const distro::Distro& distro,
                      const manifest::Manifest& manifest, const resolve::Plan& plan,
                      std::int64_t epoch) {
    auto& reporter = session.reporter();
    reporter.stage(fmt::format("assemble ({})", plan.arch));
    unpack::Tree tree(unpack::Tree::Options{distro.merged_usr(manifest.release),
                                            unpack::PathPolicy::for_manifest(manifest)});
    for (const auto& package : plan.packages) {
        core::throw_if_cancelled();
        if (package.variant.empty()) {
            tree.add_package(package);
        }
    }
    tree.finish();
    const auto summary = assemble::assemble(tree, manifest, epoch, reporter);
    reporter.info(fmt::format(
        "{} paths; dropped {} files ({}) by the path policy, {} setuid/setgid bits; {} CA "
        "certificates ({} hash links){}; accounts {}",
        tree.entries().size(), tree.trimmed().files, core::human_size(tree.trimmed().bytes),
        tree.trimmed().setuid_cleared, summary.ca_certificates, summary.hash_links,
        summary.java_truststore ? " (and the Java truststore)" : "",
        fmt::join(summary.accounts, ", ")));
    return tree;
}

ArchImage layer(Session& session, const manifest::Manifest& manifest, const resolve::Plan& plan,
                const unpack::Tree& tree, std::int64_t epoch, image::Compression compression,
                image::LayoutWriter& layout, bool for_sbom) {
    auto& reporter = session.reporter();
    reporter.stage(fmt::format("layer ({})", plan.arch));
    const image::LayerOptions options{compression, session.jobs(), epoch, for_sbom};
    const auto layer = image::write_layer(tree, options, layout.blobs_dir(), reporter);

    const auto config =
        config_input(manifest, plan, epoch, layer.diff_id, assemble::resolve_user(manifest));
    const auto config_blob = layout.put(image::k_config_media_type, image::config_json(config));
    const auto manifest_blob =
        layout.put(image::k_manifest_media_type, image::manifest_json(config_blob, layer.blob, {}));
    std::uint64_t bytes = 0;
    for (const auto& [path, entry] : tree.entries()) {
        bytes += entry.size;
    }
    reporter.info(fmt::format("layer {} ({}, {} uncompressed, {} files)", layer.blob.digest,
                              core::human_size(layer.blob.size), core::human_size(layer.tar_size),
                              layer.files));
    ArchImage image{plan.arch, manifest_blob,  config_blob,   layer,          image_packages(plan),
                    bytes,     tree.trimmed(), plan.warnings, config.platform};
    image.settings = runtime::settings_for(manifest, config.user);
    return image;
}

std::size_t image_packages(const resolve::Plan& plan) {
    return static_cast<std::size_t>(
        std::count_if(plan.packages.begin(), plan.packages.end(),
                      [](const package::Record& package) { return package.variant.empty(); }));
}

namespace {

/// The debug variant's layer: its packages, with busybox moved to /busybox and its applets
/// linked there.
image::Layer debug_layer(Session& session, const distro::Distro& distro,
                         const manifest::Manifest& manifest, const resolve::Plan& plan,
                         const image::LayerOptions& options, image::LayoutWriter& layout,
                         std::string& adds) {
    unpack::Tree tree(unpack::Tree::Options{distro.merged_usr(manifest.release),
                                            unpack::PathPolicy::for_manifest(manifest)});
    for (const auto& package : plan.packages) {
        if (package.variant == manifest::k_variant_debug) {
            tree.add_package(package);
        }
    }
    const auto busybox_name = std::string(distro::facts(manifest.distro).busybox_package);
    const auto busybox =
        std::find_if(tree.packages().begin(), tree.packages().end(),
                     [&](const package::Record& package) { return package.name == busybox_name; });
    if (busybox == tree.packages().end()) {
        throw Error(fmt::format("the debug variant needs {}, which the plan lacks; run `distill "
                                "lock --update`",
                                busybox_name));
    }
    const auto binary = std::find_if(
        busybox->paths.begin(), busybox->paths.end(), [](const unpack::ShippedPath& shipped) {
            return shipped.type == unpack::EntryType::file &&
                   (shipped.path == "bin/busybox" || shipped.path == "usr/bin/busybox");
        });
    if (binary == busybox->paths.end()) {
        throw Error(fmt::format("{} {} ships no bin/busybox", busybox_name, busybox->version));
    }
    const std::string label = fmt::format("{} {}", busybox_name, busybox->version);
    auto bytes = tree.read(binary->path);
    const auto applets = with_context(fmt::format("reading busybox of {}", label),
                                      [&] { return assemble::busybox_applets(bytes); });
    std::vector<std::string> shipped;
    for (const auto& path : busybox->paths) {
        shipped.push_back(path.path);
    }
    for (const auto& path : shipped) {
        if (tree.find(path) != nullptr) {
            tree.remove(path);
        }
    }
    {
        const unpack::Tree::Explaining why(
            tree, fmt::format("the debug variant's busybox, from {}", label));
        tree.put_directory("busybox");
        tree.put_file("busybox/busybox", std::move(bytes), 0755);
    }
    for (const auto& applet : applets) {
        if (applet == "busybox") {
            continue;
        }
        const unpack::Tree::Explaining why(
            tree, fmt::format("the debug variant's link to busybox's applet {}", applet));
        tree.put_symlink("busybox/" + applet, "busybox");
    }
    tree.finish();
    adds = fmt::format("{} under /busybox ({} applets; a shell at /busybox/sh)", label,
                       applets.size());
    return image::write_layer(tree, options, layout.blobs_dir(), session.reporter());
}

} // namespace

void variants(Session& session, const distro::Distro& distro, const manifest::Manifest& manifest,
              const resolve::Plan& plan, std::int64_t epoch, image::Compression compression,
              image::LayoutWriter& layout, ArchImage& image) {
    for (const auto& variant : manifest.variants) {
        session.reporter().stage(fmt::format("variant {} ({})", variant.value, plan.arch));
        VariantImage made;
        made.name = variant.value;
        const bool root = variant.value == manifest::k_variant_root;
        std::vector<image::Descriptor> added;
        auto config = config_input(manifest, plan, epoch, image.layer.diff_id,
                                   root ? "0:0" : assemble::resolve_user(manifest));
        if (root) {
            made.adds = "runs as root (uid 0)";
        } else {
            const image::LayerOptions options{compression, session.jobs(), epoch, false};
            made.layer = debug_layer(session, distro, manifest, plan, options, layout, made.adds);
            added.push_back(made.layer->blob);
            config.added_layers.emplace_back(made.layer->diff_id,
                                             fmt::format("distill debug variant: {}", made.adds));
            auto& path = config.config.env["PATH"];
            path += path.empty() ? "/busybox" : ":/busybox";
            if (config.config.entrypoint.empty()) {
                config.config.entrypoint = {"/busybox/sh"};
            }
        }
        made.config = layout.put(image::k_config_media_type, image::config_json(config));
        made.manifest = layout.put(image::k_manifest_media_type,
                                   image::manifest_json(made.config, image.layer.blob, {}, added));
        session.reporter().info(
            fmt::format("variant {}: {} ({})", made.name, made.manifest.digest, made.adds));
        image.variants.push_back(std::move(made));
    }
}

void sbom(Session& session, const distro::Distro& distro, const manifest::Manifest& manifest,
          const unpack::Tree& tree, std::int64_t epoch, ArchImage& image,
          image::LayoutWriter* layout) {
    session.reporter().stage(fmt::format("sbom ({})", image.arch));
    sbom::Inputs inputs;
    inputs.name = manifest.name;
    inputs.arch = image.arch;
    inputs.manifest_digest = image.manifest.digest;
    inputs.epoch = epoch;
    inputs.tree = &tree;
    inputs.sha1 = &image.layer.sha1;
    inputs.distro = &distro;
    auto documents = sbom::make(inputs);
    // Only the SBOM needed them.
    image.layer.sha1.clear();
    struct Format {
        const char* name;
        std::string_view media_type;
        const char* suffix;
        std::string* bytes;
    };
    const std::array<Format, 2> formats{
        {{"spdx", sbom::k_spdx_media_type, "spdx", &documents.spdx},
         {"cyclonedx", sbom::k_cyclonedx_media_type, "cdx", &documents.cyclonedx}}};
    // Where a layout keeps them, or only what they would be called.
    const auto put = [&](std::string_view media_type, const std::string& bytes) {
        if (layout != nullptr) {
            return layout->put(std::string(media_type), bytes);
        }
        return image::Descriptor{std::string(media_type), "sha256:" + core::sha256_hex(bytes),
                                 bytes.size()};
    };
    (void)put(sbom::k_empty_media_type, std::string(sbom::k_empty_config));
    for (const auto& format : formats) {
        SbomDocument stored;
        stored.format = format.name;
        stored.media_type = format.media_type;
        stored.bytes = std::move(*format.bytes);
        stored.document = put(stored.media_type, stored.bytes);
        const auto title = fmt::format("{}-{}.{}.json", manifest.name, image.arch, format.suffix);
        stored.artifact = put(image::k_manifest_media_type,
                              sbom::artifact_manifest(format.media_type, stored.document,
                                                      image.manifest, title, epoch));
        session.reporter().info(fmt::format("{} SBOM {} ({})", format.name, stored.artifact.digest,
                                            core::human_size(stored.document.size)));
        image.sboms.push_back(std::move(stored));
    }
}

} // namespace distill::pipeline
