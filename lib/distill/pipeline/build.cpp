#include <algorithm>
#include <map>
#include <optional>

#include <fmt/format.h>

#include <distill/core/fs.hpp>
#include <distill/image/oci.hpp>
#include <distill/image/output.hpp>
#include <distill/image/reference.hpp>
#include <distill/pipeline/steps.hpp>
#include <distill/runtime/profile.hpp>

namespace distill::pipeline {
namespace {

namespace fs = std::filesystem;

fs::path default_output(const std::string& name, OutputFormat format) {
    return format == OutputFormat::layout ? fs::path("out") / name
                                          : fs::path("out") / (name + ".tar");
}

/// Packages go into the tree in name order, whether they come from the solver (in install
/// order) or from the lock (sorted): the image must not depend on which.
void sort_by_name(std::vector<resolve::Plan>& plans) {
    for (auto& plan : plans) {
        std::sort(plan.packages.begin(), plan.packages.end(),
                  [](const package::Record& a, const package::Record& b) {
                      return std::tie(a.name, a.arch) < std::tie(b.name, b.arch);
                  });
    }
}

/// The write step: the image staged as a layout beside the output (every architecture's
/// layer, config and manifest, then the index), put in place only by publish().
class Staging {
public:
    Staging(const manifest::Manifest& manifest, const BuildSettings& settings,
            const image::Reference& tag, std::size_t archs)
        : m_settings(settings)
        // An archive is loaded by name (`docker load`, `podman load`), so it names the image
        // fully: NAME:TAG for a bare tag. A layout keeps a bare tag as its ref name, which
        // `oci:DIR:TAG` looks up.
        , m_reference(settings.format != OutputFormat::layout || !tag.bare_tag()
                          ? image::reference_for(manifest.name, tag)
                          : tag) {
        if (settings.format == OutputFormat::docker_archive && archs > 1) {
            throw Error("a docker-archive holds one architecture; pick one with --arch, or use "
                        "the layout or oci-archive format",
                        ExitCode::usage);
        }
        m_result.name = manifest.name;
        m_result.format = settings.format;
        m_result.output = settings.output.empty() ? default_output(manifest.name, settings.format)
                                                  : settings.output;
        m_result.previous_digest = image::existing_digest(m_result.output).value_or("");
        m_result.compression = settings.format == OutputFormat::docker_archive
                                   ? image::Compression::none
                                   : settings.compression;
        // Everything is written beside the output and put in place at the very end.
        m_staging.emplace(image::staging_dir_for(m_result.output));
        m_layout_dir = settings.format == OutputFormat::layout ? m_staging->path()
                                                               : m_staging->path() / "layout";
        m_layout.emplace(m_layout_dir);
    }

    [[nodiscard]] image::LayoutWriter& layout() { return *m_layout; }
    /// Whether the output keeps the SBOMs as artifacts: a layout does; an archive is for
    /// `podman load` and `docker load`, which take one image and nothing beside it.
    [[nodiscard]] bool keeps_sboms() const { return m_settings.format == OutputFormat::layout; }
    [[nodiscard]] image::Compression compression() const { return m_result.compression; }
    /// Whether the output has the variants: a layout does; an archive is for `podman load` and
    /// `docker load`, which take one image.
    [[nodiscard]] bool keeps_variants() const { return m_settings.format == OutputFormat::layout; }

    /// One architecture's image, written into layout().
    void add(ArchImage image) { m_result.archs.push_back(std::move(image)); }

    /// Writes index.json and puts the layout (or the archive of it) at the output.
    BuildResult publish(std::int64_t epoch) {
        auto& result = m_result;
        result.epoch = epoch;
        std::vector<image::IndexEntry> index;
        std::vector<image::Platform> platforms;
        for (const auto& arch : result.archs) {
            index.push_back({arch.manifest, arch.platform});
            platforms.push_back(arch.platform);
        }
        const image::Descriptor top =
            index.size() == 1 ? index.front().manifest
                              : m_layout->put(image::k_index_media_type, image::index_json(index));
        result.ref_name = m_reference.bare_tag() ? m_reference.tag : m_reference.str();
        std::map<std::string, std::string> annotations{
            {image::k_ref_name_annotation, result.ref_name}};
        const bool is_layout = m_settings.format == OutputFormat::layout;
        if (!is_layout) {
            // Podman, containerd and newer docker take the name from here, docker 20.10 from
            // the RepoTags of manifest.json: both say the same qualified name.
            result.image_name = m_reference.qualified();
            annotations.emplace(image::k_image_name_annotation, result.image_name);
        }
        std::vector<image::Artifact> artifacts;
        if (keeps_sboms()) {
            for (const auto& arch : result.archs) {
                for (const auto& sbom : arch.sboms) {
                    artifacts.push_back({sbom.artifact, sbom.media_type});
                }
            }
        }
        std::vector<image::LayoutWriter::Sibling> siblings;
        for (std::size_t v = 0;
             keeps_variants() && !result.archs.empty() && v < result.archs.front().variants.size();
             ++v) {
            std::vector<image::IndexEntry> entries;
            for (const auto& arch : result.archs) {
                entries.push_back({arch.variants.at(v).manifest, arch.platform});
            }
            const auto& name = result.archs.front().variants[v].name;
            const image::Descriptor variant_top =
                entries.size() == 1
                    ? entries.front().manifest
                    : m_layout->put(image::k_index_media_type, image::index_json(entries));
            auto tagged = m_reference;
            tagged.tag += "-" + name;
            VariantResult made{name, tagged.bare_tag() ? tagged.tag : tagged.str(),
                               variant_top.digest, result.archs.front().variants[v].adds};
            siblings.push_back({variant_top, {{image::k_ref_name_annotation, made.ref_name}}});
            result.variants.push_back(std::move(made));
        }
        m_layout->finish(top, annotations, platforms, artifacts, siblings);
        result.digest = top.digest;
        result.media_type = top.media_type;
        if (is_layout) {
            fs::permissions(m_layout_dir, fs::perms(0755));
            image::publish_layout(m_layout_dir, result.output);
        } else {
            std::optional<std::string> docker;
            if (m_settings.format == OutputFormat::docker_archive) {
                const auto& last = result.archs.back();
                docker =
                    image::docker_manifest_json(last.config, last.layer.blob, m_reference.str());
            }
            image::write_layout_archive(m_layout_dir, result.output, epoch, docker);
            result.archive_size = fs::file_size(result.output);
        }
        result.seccomp_file = seccomp_file_for(result.output, m_settings.format);
        const auto& settings = result.archs.front().settings;
        core::write_file_atomic(result.seccomp_file, runtime::seccomp_profile(settings, 2));
        if (!m_settings.sbom_dir.empty()) {
            fs::create_directories(m_settings.sbom_dir);
            for (const auto& arch : result.archs) {
                for (const auto& sbom : arch.sboms) {
                    core::write_file_atomic(m_settings.sbom_dir /
                                                fmt::format("{}-{}.{}.json", result.name, arch.arch,
                                                            sbom.format == "spdx" ? "spdx" : "cdx"),
                                            sbom.bytes);
                }
            }
        }
        return std::move(result);
    }

private:
    const BuildSettings& m_settings;
    image::Reference m_reference;
    BuildResult m_result;
    std::optional<core::TempDir> m_staging;
    fs::path m_layout_dir;
    std::optional<image::LayoutWriter> m_layout;
};

std::string building(const manifest::Manifest& manifest, const resolve::Plan& plan) {
    return fmt::format("building {} for {}", manifest.name, plan.arch);
}

} // namespace

fs::path seccomp_file_for(const fs::path& output, OutputFormat format) {
    const auto name = format == OutputFormat::layout ? output.filename() : output.stem();
    return output.parent_path() / (name.string() + ".seccomp.json");
}

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

BuildResult build(Session& session, const manifest::Loaded& loaded, const BuildSettings& settings) {
    const auto& manifest = loaded.manifest;
    // A bad tag is a usage error: found before anything is downloaded.
    const image::Reference tag = image::parse_tag_option(settings.tag);
    // The packages tell better than the index which are installers: unpack() judges them.
    Resolved resolved =
        resolve_packages(session, loaded, settings.plan, settings.lock, IndexWarnings::leave);
    Staging staging(manifest, settings, tag, resolved.plans.size());
    if (!staging.keeps_variants() && !manifest.variants.empty()) {
        session.reporter().warning(
            fmt::format("the variants are written only in a layout: the {} holds the image "
                        "alone, as `podman load` and `docker load` take one",
                        to_string(settings.format)));
    }
    sort_by_name(resolved.plans);
    const auto& distro = distro::get(manifest);
    // Every architecture is unpacked first, so that one epoch (the newest package of any of
    // them) stamps every image of a multi-arch build.
    for (auto& plan : resolved.plans) {
        with_context(building(manifest, plan), [&] {
            fetch(session, distro, plan, resolved.lock);
            unpack(session, distro, plan);
        });
    }
    const std::int64_t epoch = session.epoch().value_or(newest_build_date(resolved.plans));
    for (auto& plan : resolved.plans) {
        with_context(building(manifest, plan), [&] {
            // The layer step re-checks every file it takes from a content pack: a damaged pack
            // is made again from its package file and the layer written again, once per
            // package at most.
            for (std::size_t remade = 0;; ++remade) {
                try {
                    const auto tree = assemble(session, distro, manifest, plan, epoch);
                    auto image = layer(session, manifest, plan, tree, epoch, staging.compression(),
                                       staging.layout(), settings.sbom);
                    if (settings.sbom) {
                        sbom(session, distro, manifest, tree, epoch, image,
                             staging.keeps_sboms() ? &staging.layout() : nullptr);
                    }
                    if (staging.keeps_variants()) {
                        variants(session, distro, manifest, plan, epoch, staging.compression(),
                                 staging.layout(), image);
                    }
                    staging.add(std::move(image));
                    return;
                } catch (const core::CacheDamageError& damage) {
                    if (remade >= plan.packages.size()) {
                        throw;
                    }
                    remake_unpacked(session, distro, plan, damage);
                }
            }
        });
    }
    session.reporter().stage("output");
    auto result = staging.publish(epoch);
    write_lock(resolved);
    result.lock = resolved.lock;
    return result;
}

} // namespace distill::pipeline
