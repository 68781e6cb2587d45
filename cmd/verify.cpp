#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <distill/diff/diff.hpp>
#include <distill/distro/distro.hpp>
#include <distill/pipeline/pipeline.hpp>

#include "cli.hpp"

namespace distill::cli {

void add_verify_command(CLI::App& app, const GlobalOptions& globals, int& exit_code) {
    struct Options {
        std::string layout;
        std::string manifest;
        std::string lock;
        bool json = false;
    };
    auto options = std::make_shared<Options>();
    auto* command = app.add_subcommand(
        "verify", "Rebuild an image from its lock and check that the digest is the same");
    command->add_option("layout", options->layout, "The OCI image layout to check")->required();
    command->add_option("manifest", options->manifest, "The manifest it was built from")
        ->required();
    command->add_option("--lock", options->lock,
                        "The lockfile (default: beside the manifest, NAME.lock for NAME.yaml)");
    command->add_flag("--json", options->json, "Print the result as JSON on stdout");
    command->footer(
        R"(The rebuild takes exactly the packages of the lock (as `distill build --frozen`)
and the layout's compression, in a scratch directory beside the layout. The
same SOURCE_DATE_EPOCH, if the image was built with one, must be set again.
When the digests differ, the first difference is named: a file (with mode,
owner, size and content hash on both sides), or the image config.

Exit codes: 0 the same digest, 9 a different one, 8 no lock or an outdated one.

Example:
  distill verify out/java17 manifests/java17.yaml)");
    command->callback([options, &globals, &exit_code] {
        CliReporter reporter(globals);
        const auto loaded = distro::load_manifest(options->manifest);
        pipeline::Session session(session_options(globals, 0, source_date_epoch()), reporter);
        pipeline::BuildSettings settings;
        settings.lock.path = options->lock;
        settings.sbom = false; // the digest is the image's: its SBOMs are not part of it
        const auto result =
            pipeline::verify(session, options->layout, loaded, settings, diff::first_difference);
        if (options->json) {
            fmt::print("{}\n", nlohmann::json{{"layout", options->layout},
                                              {"expected", result.expected},
                                              {"actual", result.actual},
                                              {"reproduced", result.reproduced()},
                                              {"difference", result.difference}}
                                   .dump(2));
        } else if (result.reproduced()) {
            fmt::print("reproduced: {} rebuilt from the lock gives {}\n", options->layout,
                       result.actual);
        } else {
            fmt::print("NOT reproduced: {} is {}, the rebuild is {}\n  first difference: {}\n",
                       options->layout, result.expected, result.actual, result.difference);
        }
        exit_code = result.reproduced() ? 0 : static_cast<int>(ExitCode::not_reproduced);
    });
}

} // namespace distill::cli
