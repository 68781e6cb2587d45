#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <distill/core/text.hpp>
#include <distill/distro/distro.hpp>
#include <distill/image/layout.hpp>
#include <distill/image/oci.hpp>
#include <distill/image/reference.hpp>
#include <distill/pipeline/pipeline.hpp>
#include <distill/runtime/profile.hpp>

#include "cli.hpp"

namespace distill::cli {
namespace {

struct BuildOptions {
    std::string manifest;
    std::string output;
    std::string format = "layout";
    std::string compression = "gzip";
    std::string tag = "latest";
    std::vector<std::string> archs;
    std::string solver_debug;
    int jobs = 0;
    bool json = false;
    bool frozen = false;
    bool update = false;
    std::string lock;
    bool no_sbom = false;
    std::string sbom_dir;
    RegistryFlags registry;
};

nlohmann::json variants_json(const pipeline::BuildResult& result) {
    nlohmann::json variants = nlohmann::json::array();
    for (const auto& variant : result.variants) {
        variants.push_back({{"name", variant.name},
                            {"ref_name", variant.ref_name},
                            {"digest", variant.digest},
                            {"adds", variant.adds}});
    }
    return variants;
}

nlohmann::json sboms_json(const pipeline::ArchImage& arch) {
    nlohmann::json sboms = nlohmann::json::array();
    for (const auto& sbom : arch.sboms) {
        sboms.push_back({{"format", sbom.format},
                         {"media_type", sbom.media_type},
                         {"digest", sbom.artifact.digest},
                         {"document", sbom.document.digest},
                         {"size", sbom.document.size}});
    }
    return sboms;
}

nlohmann::json result_json(const pipeline::BuildResult& result) {
    nlohmann::json archs = nlohmann::json::array();
    for (const auto& arch : result.archs) {
        archs.push_back({{"arch", arch.arch},
                         {"digest", arch.manifest.digest},
                         {"config", arch.config.digest},
                         {"layer",
                          {{"digest", arch.layer.blob.digest},
                           {"diff_id", arch.layer.diff_id},
                           {"media_type", arch.layer.blob.media_type},
                           {"size", arch.layer.blob.size},
                           {"tar_size", arch.layer.tar_size}}},
                         // What a registry stores for this image: manifest, config and layer.
                         {"size", arch.manifest.size + arch.config.size + arch.layer.blob.size},
                         {"uncompressed_size", arch.unpacked_bytes},
                         {"packages", arch.packages},
                         {"files", arch.layer.files},
                         {"entries", arch.layer.entries},
                         {"warnings", arch.warnings},
                         {"sboms", sboms_json(arch)}});
    }
    const bool layout = result.format == pipeline::OutputFormat::layout;
    return {{"name", result.name},
            {"digest", result.digest},
            // What `digest` is of: an image manifest, or an image index for several archs.
            {"media_type", result.media_type},
            {"ref_name", result.ref_name},
            {"image_name", layout ? nlohmann::json() : nlohmann::json(result.image_name)},
            {"format", pipeline::to_string(result.format)},
            {layout ? "layout" : "archive", result.output.string()},
            {"archive_size", layout ? nlohmann::json() : nlohmann::json(result.archive_size)},
            {"compression", image::to_string(result.compression)},
            {"epoch", result.epoch},
            {"previous_digest", result.previous_digest.empty()
                                    ? nlohmann::json()
                                    : nlohmann::json(result.previous_digest)},
            {"changed", result.previous_digest != result.digest},
            {"lock",
             {{"path", result.lock.path.string()},
              {"used", result.lock.used},
              {"written", result.lock.written}}},
            {"archs", std::move(archs)},
            {"variants", variants_json(result)},
            {"seccomp_profile", result.seccomp_file.string()}};
}

void print_text(const pipeline::BuildResult& result) {
    for (const auto& arch : result.archs) {
        // A docker-archive's layer is a plain tar: its size is no compressed size.
        fmt::print("{} ({}): {} packages, {} files, {} {} ({} unpacked)\n", result.name, arch.arch,
                   arch.packages, arch.layer.files, core::human_size(arch.layer.blob.size),
                   result.compression == image::Compression::none ? "uncompressed layer"
                                                                  : "compressed",
                   core::human_size(arch.unpacked_bytes));
    }
    const char* change = result.previous_digest.empty()            ? "new"
                         : result.previous_digest == result.digest ? "unchanged"
                                                                   : "changed";
    const std::string output = result.output.string();
    const bool layout = result.format == pipeline::OutputFormat::layout;
    fmt::print("{} {} ({}{}): {} {}\n", pipeline::to_string(result.format), output, change,
               layout ? "" : ", " + core::human_size(result.archive_size),
               result.media_type == image::k_index_media_type ? "image index" : "image manifest",
               result.digest);
    for (const auto& arch : result.archs) {
        for (const auto& sbom : arch.sboms) {
            fmt::print("{} SBOM ({}): {}{}\n", sbom.format, arch.arch,
                       core::human_size(sbom.document.size),
                       layout ? fmt::format(", artifact {}", sbom.artifact.digest) : "");
        }
    }
    if (layout) {
        fmt::print("ref name {} (oci:{}:{})\n", result.ref_name, output, result.ref_name);
    } else {
        fmt::print("loads as {} ({}podman load -i {})\n", result.image_name,
                   result.format == pipeline::OutputFormat::docker_archive
                       ? fmt::format("docker load -i {}, ", output)
                       : "",
                   output);
    }
    for (const auto& variant : result.variants) {
        fmt::print("variant {}: {} (oci:{}:{}): {}\n", variant.name, variant.digest, output,
                   variant.ref_name, variant.adds);
    }
    fmt::print("runtime profile {} (denies {} system calls; `distill inspect {} --run` says "
               "how to run it)\n",
               result.seccomp_file.string(), runtime::denied_count(result.archs.front().settings),
               layout ? output : "LAYOUT");
    if (result.lock.written) {
        fmt::print("lock {} written\n", result.lock.path.string());
    }
}

} // namespace

void add_build_command(CLI::App& app, const GlobalOptions& globals, int& exit_code) {
    auto options = std::make_shared<BuildOptions>();
    auto* command = app.add_subcommand(
        "build", "Build the image: a reproducible single-layer OCI image of the closure");
    command->add_option("manifest", options->manifest, "The image manifest (YAML)")->required();
    command->add_option("-o,--output", options->output,
                        "Where to write the image (default: out/NAME, or out/NAME.tar for the "
                        "archive formats)");
    command
        ->add_option("--format", options->format,
                     "layout (an OCI image layout directory), "
                     "oci-archive or docker-archive (tar files)")
        ->check(CLI::IsMember({"layout", "oci-archive", "docker-archive"}));
    command->add_option("--compression", options->compression, "Layer compression: gzip or zstd")
        ->check(CLI::IsMember({"gzip", "zstd"}));
    command
        ->add_option("--tag", options->tag,
                     "The image's name: a tag (1.2; default: latest) or a whole reference "
                     "[HOST[:PORT]/]PATH[:TAG] (registry.example.org/team/app:1.2); see "
                     "\"Naming\" below")
        ->type_name("TAG|REFERENCE")
        ->check(CLI::Validator(
            [](const std::string& text) {
                try {
                    (void)image::parse_tag_option(text);
                    return std::string();
                } catch (const image::ReferenceError& error) {
                    return std::string(error.what());
                }
            },
            ""));
    command->add_option("--arch", options->archs,
                        "Build for this architecture instead of the manifest's (repeatable)");
    command
        ->add_option("-j,--jobs", options->jobs,
                     "Threads for unpacking and compressing (default: one per processor), and "
                     "downloads at once (default: 8)")
        ->check(CLI::Range(1, 256));
    command->add_option("--solver-debug", options->solver_debug,
                        "Write a libsolv testcase of the resolution into this directory");
    command->add_flag("--json", options->json, "Print the result as JSON on stdout");
    command->add_flag("--frozen", options->frozen,
                      "Build exactly what the lock says; fail (exit 8) when there is no lock or "
                      "the manifest changed since it was written");
    command
        ->add_flag("--update", options->update, "Resolve the current versions and rewrite the lock")
        ->excludes(command->get_option("--frozen"));
    command->add_option("--lock", options->lock,
                        "The lockfile (default: beside the manifest, NAME.lock for NAME.yaml)");
    command->add_option("--sbom-dir", options->sbom_dir,
                        "Also write each image's SBOMs here: NAME-ARCH.spdx.json (SPDX 2.3) and "
                        "NAME-ARCH.cdx.json (CycloneDX 1.6)");
    command
        ->add_flag("--no-sbom", options->no_sbom,
                   "Write no SBOM (by default a layout holds each image's SPDX and CycloneDX "
                   "documents as artifacts whose subject is the image)")
        ->excludes("--sbom-dir");
    command
        ->add_option("--push", options->registry.push,
                     "Push the image to this reference once built (repeatable); a reference "
                     "whose tag already names the image is left as it is")
        ->type_name("REFERENCE");
    add_registry_options(command, options->registry);
    command->footer(
        R"(distill build resolves the manifest like `distill plan`, downloads every package
(verified against the signed indexes), reads them without running any maintainer
script, and writes one image per architecture with a single layer:

  - Packages: Debian .debs are checked against the SHA-256 their index gives, Alpine
    .apks against the index's C: (the SHA-1 of the control part) and the control
    part's datahash (the SHA-256 of the data part).
  - Paths: /bin, /sbin and /lib* move under /usr (merged /usr, Debian 12 on) with
    links in their place; documentation, manual pages, translations and lintian
    files are dropped (each package's copyright stays); `paths` in the manifest
    changes that. Setuid and setgid bits are dropped unless `paths.setuid` keeps them.
  - Generated: /etc/passwd and /etc/group (root, nonroot 65532, nobody and the
    manifest's accounts), /tmp, /etc/nsswitch.conf, /etc/localtime (UTC), the CA
    bundle with the links update-ca-certificates and `openssl rehash` make in
    /etc/ssl/certs (and /usr/lib/ssl/cert.pem and certs, where OpenSSL looks), the
    Java truststore when a JVM is in, /usr/bin links for JVM tools, and the package
    database listing exactly the files that are in the image (dpkg's status and
    info/ for Debian; for Alpine lib/apk/db/installed, etc/apk/world).
  - Reproducible: paths sorted, owners numeric, every time stamp the epoch
    (SOURCE_DATE_EPOCH, else the newest package's build date): the same manifest
    and package versions give the same digest on any machine.
  - Explained: each image gets an SPDX 2.3 and a CycloneDX 1.6 SBOM: the
    operating system, every package (source, maintainer, licence, URL, checksum,
    purl) and every file with its hashes and the package that shipped it, or what
    distill generated it for. A layout holds them as artifacts whose subject is the
    image (so `distill push` takes them along, and `oci:DIR` needs its :TAG);
    `distill sbom` and `distill inspect` read them; --sbom-dir writes them as files.
  - Least privilege: each image carries a runtime profile, in its config's labels
    and as OUTPUT.seccomp.json beside it: a seccomp profile (the runtime's default
    less the system calls a distroless service never makes: mount, ptrace,
    unshare, setns, keyctl, bpf, ...) and the settings it runs with: its user, a
    read-only root file system with a tmpfs /tmp, no capability, no new
    privileges. `distill inspect OUTPUT --run` prints them as podman and docker
    flags and as a Kubernetes securityContext; `podman run --seccomp-policy=image`
    applies the profile from the label. `runtime:` in the manifest relaxes it.
  - Variants: `variants: [debug, root]` in the manifest adds, in a layout, the
    images TAG-debug (busybox's shell and applets under /busybox, last in PATH)
    and TAG-root (runs as uid 0), from the same packages; the image itself stays
    byte for byte what it is without them. Archives hold the image alone.
  - Locked: the first build writes NAME.lock beside NAME.yaml with every package's
    exact version, URL and SHA-256; later builds take the packages from it while
    the manifest is unchanged, once signed indexes give exactly its packages (an
    edited lock is refused, exit code 4). `--update` takes the current versions (a
    nightly rebuild), `--frozen` refuses to build anything but the lock. JSON
    output says whether the digest `changed`.

Naming (--tag): a value without `/`, `:` or `@` is a tag; anything else is a
whole reference [HOST[:PORT]/]PATH[:TAG] (lowercase path components, the tag
`latest` when left out; a digest is refused: a build cannot choose it).
  - layout: index.json's ref name is the tag (`podman run oci:out/NAME:TAG`), or
    the whole reference (`oci:out/NAME:registry.example.org/team/app:1.2`).
  - oci-archive, docker-archive: the image is named NAME:TAG (NAME from the
    manifest) or the whole reference: in index.json (the ref name, and
    io.containerd.image.name fully qualified) and, for docker-archive, in the
    RepoTags of manifest.json. `docker load` and `podman load` give it the same
    name, which the summary shows: docker.io/library/NAME:TAG for a bare tag, so
    give a whole reference (localhost/team/app:1) for a name of your own.
  - The digest shown is the image manifest's, or the image index's when several
    architectures are built (layout and oci-archive only). A docker-archive's
    layer is an uncompressed tar.

A package whose content its maintainer scripts download or make at install time
(ttf-mscorefonts-installer fetches fonts in its postinst) is named in a warning:
the image will not contain that content. A package with a path that climbs out of
the image, a device node, or a hard link out of itself stops the build (exit code
7). The output is replaced only when the build succeeds.

Examples:
  distill build manifests/java17.yaml
  distill build --update --json manifests/java17.yaml    (nightly: new versions, if any)
  podman run --rm oci:out/java17:latest -version
  distill build --format docker-archive --tag localhost/team/java17:1 manifests/java17.yaml
  docker load -i out/java17.tar && docker run --rm localhost/team/java17:1 -version
  distill build --json --compression zstd -o /tmp/py manifests/python3.yaml)");

    command->callback([options, &globals, &exit_code] {
        CliReporter reporter(globals);
        // A bad reference is a usage error before anything is fetched.
        const auto push_to = parse_references(options->registry.push);
        const auto loaded = distro::load_manifest(options->manifest, options->archs);
        pipeline::Session session(session_options(globals, options->jobs, source_date_epoch()),
                                  reporter);
        pipeline::BuildSettings settings;
        settings.plan.solver_debug_dir = options->solver_debug;
        settings.output = options->output;
        settings.format = options->format == "oci-archive" ? pipeline::OutputFormat::oci_archive
                          : options->format == "docker-archive"
                              ? pipeline::OutputFormat::docker_archive
                              : pipeline::OutputFormat::layout;
        settings.compression =
            options->compression == "zstd" ? image::Compression::zstd : image::Compression::gzip;
        settings.tag = options->tag;
        settings.lock.mode = options->frozen   ? pipeline::LockMode::frozen
                             : options->update ? pipeline::LockMode::update
                                               : pipeline::LockMode::automatic;
        settings.lock.path = options->lock;
        settings.sbom = !options->no_sbom;
        settings.sbom_dir = options->sbom_dir;
        const auto result = pipeline::build(session, loaded, settings);
        std::optional<registry::PushResult> pushed;
        if (!push_to.empty()) {
            reporter.stage("push");
            pushed = registry::push(image::Layout::open(result.output), push_to,
                                    push_options(options->registry, globals, reporter), reporter);
        }
        if (options->json) {
            auto json = result_json(result);
            if (pushed) {
                json["push"] = push_json(*pushed);
            }
            fmt::print("{}\n", json.dump(2));
        } else {
            print_text(result);
            if (pushed) {
                print_push(*pushed);
            }
        }
        exit_code = 0;
    });
}

} // namespace distill::cli
