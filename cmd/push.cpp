#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <distill/core/cache.hpp>
#include <distill/core/text.hpp>
#include <distill/image/layout.hpp>
#include <distill/image/reference.hpp>
#include <distill/registry/push.hpp>

#include "cli.hpp"

namespace distill::cli {

void add_registry_options(CLI::App* command, RegistryFlags& flags) {
    command
        ->add_option("--tls-verify", flags.tls_verify,
                     "Verify the registry's TLS certificate (default: true); false also allows a "
                     "registry that speaks plain http")
        ->type_name("BOOL");
    command->add_option("--cert-dir", flags.cert_dir,
                        "A directory of certificates for the registry, as skopeo's: *.crt are "
                        "CA certificates, NAME.cert with NAME.key a client certificate");
    command->add_option("--authfile", flags.authfile,
                        "Read credentials from this file only (default: $REGISTRY_AUTH_FILE, "
                        "${XDG_RUNTIME_DIR}/containers/auth.json, then "
                        "${DOCKER_CONFIG:-~/.docker}/config.json)");
    command
        ->add_option("--chunk-size", flags.chunk_size,
                     "Send blobs larger than this in chunks of this size (default: 32MiB; "
                     "suffixes K, M, G are powers of 1024)")
        ->type_name("SIZE")
        ->transform(CLI::AsSizeValue(false))
        ->check(CLI::Range(std::uint64_t{4096}, std::uint64_t{1} << 32U));
}

std::vector<image::Reference> parse_references(const std::vector<std::string>& texts) {
    std::vector<image::Reference> references;
    for (const auto& text : texts) {
        auto reference = image::parse_reference(text);
        if (reference.bare_tag()) {
            throw image::ReferenceError(
                fmt::format("`{}` names no repository: write e.g. registry.example.org/team/"
                            "app:1",
                            text));
        }
        references.push_back(std::move(reference));
    }
    return references;
}

registry::PushOptions push_options(const RegistryFlags& flags, const GlobalOptions& globals,
                                   core::Reporter& reporter) {
    registry::PushOptions options;
    options.registry.tls_verify = flags.tls_verify;
    options.registry.cert_dir = flags.cert_dir;
    if (!flags.authfile.empty()) {
        options.registry.authfile = flags.authfile;
    }
    options.registry.reporter = &reporter;
    options.registry.chunk_size = flags.chunk_size;
    options.state_dir = globals.cache_dir.empty() ? core::Cache::default_root()
                                                  : std::filesystem::path(globals.cache_dir);
    return options;
}

nlohmann::json push_json(const registry::PushResult& result) {
    nlohmann::json references = nlohmann::json::array();
    for (const auto& pushed : result.references) {
        references.push_back({{"reference", pushed.reference},
                              {"digest", result.digest},
                              {"unchanged", pushed.unchanged},
                              {"blobs_uploaded", pushed.stats.blobs_uploaded},
                              {"blobs_present", pushed.stats.blobs_present},
                              {"blobs_mounted", pushed.stats.blobs_mounted},
                              {"bytes_uploaded", pushed.stats.bytes_uploaded},
                              {"chunks", pushed.stats.chunks},
                              {"resumed", pushed.stats.resumed},
                              {"restarted", pushed.stats.restarted},
                              {"manifests", pushed.manifests},
                              {"referrers", pushed.referrers},
                              {"referrers_api", pushed.referrers_api},
                              {"tokens", pushed.tokens},
                              {"credentials", pushed.credentials}});
    }
    return {{"digest", result.digest},
            {"media_type", result.media_type},
            {"references", std::move(references)}};
}

void print_push(const registry::PushResult& result) {
    for (const auto& pushed : result.references) {
        if (pushed.unchanged) {
            fmt::print("{}: unchanged ({} already), nothing pushed\n", pushed.reference,
                       result.digest);
            continue;
        }
        fmt::print("{}: pushed {} ({} blobs uploaded, {}; {} already there, {} mounted; {} "
                   "manifests{})\n",
                   pushed.reference, result.digest, pushed.stats.blobs_uploaded,
                   core::human_size(pushed.stats.bytes_uploaded), pushed.stats.blobs_present,
                   pushed.stats.blobs_mounted, pushed.manifests,
                   pushed.referrers == 0
                       ? std::string()
                       : fmt::format(", {} referrers{}", pushed.referrers,
                                     pushed.referrers_api ? "" : " (tag fallback)"));
    }
}

void add_push_command(CLI::App& app, const GlobalOptions& globals, int& exit_code) {
    struct PushOptions {
        std::string layout;
        std::vector<std::string> references;
        RegistryFlags registry;
        bool force = false;
        bool json = false;
    };
    auto options = std::make_shared<PushOptions>();
    auto* command =
        app.add_subcommand("push", "Push an image (an OCI layout or archive) to registries");
    command->add_option("layout", options->layout, "The OCI layout directory or archive")
        ->required();
    command
        ->add_option("references", options->references,
                     "Where to push: REGISTRY[:PORT]/PATH[:TAG] (repeatable)")
        ->required();
    add_registry_options(command, options->registry);
    command->add_flag("--force", options->force,
                      "Send the manifests (and check every blob) even where the tag already "
                      "names the image");
    command->add_flag("--json", options->json, "Print the result as JSON on stdout");
    command->footer(
        R"(distill push speaks the OCI distribution API itself: blobs the repository
already has are skipped (HEAD), blobs another repository of the registry is known
to have are mounted, the rest uploaded (in chunks above 32 MiB, resumed where a
cut connection left them); then the manifests by digest, then the tag, so a tag
never names an image whose parts are missing, however the push stops. A tag that
already names the image (with its artifacts there too) is left as it is: nothing
is sent (--force sends the manifests again). Artifacts
in the layout whose subject is the image (SBOMs) are pushed too, through the
registry's referrers API or the sha256-<digest> tag fallback.

Credentials: anonymous, basic, or bearer tokens from the registry's token server,
taken from the files podman, skopeo and docker use (and their credential helpers,
docker-credential-NAME). A refused push names the credentials it tried, never the
secret. TLS is verified unless --tls-verify=false; loopback registries may speak
plain http.

Examples:
  distill push out/java17 registry.example.org/team/java17:17
  distill build manifests/java17.yaml --push registry.example.org/team/java17:17
  distill push --cert-dir certs/ out/static localhost:5000/static:1)");
    command->callback([options, &globals, &exit_code] {
        CliReporter reporter(globals);
        const auto references = parse_references(options->references);
        const auto layout = image::Layout::open(options->layout);
        auto push = push_options(options->registry, globals, reporter);
        push.skip_unchanged = !options->force;
        const auto result = registry::push(layout, references, push, reporter);
        if (options->json) {
            fmt::print("{}\n", push_json(result).dump(2));
        } else {
            print_push(result);
        }
        exit_code = 0;
    });
}

} // namespace distill::cli
