#include <memory>

#include <fmt/format.h>

#include <distill/core/error.hpp>
#include <distill/image/layout.hpp>
#include <distill/sbom/sbom.hpp>
#include <distill/sbom/stored.hpp>

#include "cli.hpp"

namespace distill::cli {

std::vector<sbom::StoredSbom> sboms_for_arch(const image::Layout& layout, const std::string& arch,
                                             std::string_view media_type) {
    const auto stored = sbom::stored_sboms(layout);
    std::vector<sbom::StoredSbom> chosen;
    std::vector<std::string> archs;
    for (const auto& sbom : stored) {
        if (sbom.media_type != media_type) {
            continue;
        }
        archs.push_back(sbom.platform.architecture);
        if (arch.empty() || sbom::names_platform(arch, sbom.platform)) {
            chosen.push_back(sbom);
        }
    }
    if (archs.empty()) {
        throw Error(fmt::format("{} holds no {} SBOM: distill build writes them into a layout "
                                "unless told --no-sbom (an archive's are written with "
                                "--sbom-dir)",
                                layout.path().string(), media_type));
    }
    if (chosen.empty()) {
        throw Error(fmt::format("{} has no image for `{}`; it has {}", layout.path().string(), arch,
                                fmt::join(archs, ", ")),
                    ExitCode::usage);
    }
    if (chosen.size() > 1) {
        throw Error(fmt::format("{} holds images for {}: choose one with --arch",
                                layout.path().string(), fmt::join(archs, ", ")),
                    ExitCode::usage);
    }
    return chosen;
}

void add_sbom_command(CLI::App& app, const GlobalOptions& /*globals*/, int& exit_code) {
    struct Options {
        std::string layout;
        std::string format = "spdx";
        std::string arch;
    };
    auto options = std::make_shared<Options>();
    auto* command = app.add_subcommand("sbom", "Print an image's SBOM (SPDX or CycloneDX JSON)");
    command->add_option("layout", options->layout, "The OCI image layout distill built")
        ->required();
    command->add_option("--format", options->format, "spdx (SPDX 2.3) or cyclonedx (1.6)")
        ->check(CLI::IsMember({"spdx", "cyclonedx"}));
    command->add_option("--arch", options->arch,
                        "The image of this architecture (amd64, arm64, or the distro's name); "
                        "needed when the layout holds several");
    command->footer(
        R"(The documents are those distill build stored in the layout, as artifacts whose
subject is the image manifest; they are verified against their digests before
they are printed.

Examples:
  distill sbom out/java17 > java17.spdx.json
  distill sbom --format cyclonedx --arch arm64 out/java17)");
    command->callback([options, &exit_code] {
        const auto layout = image::Layout::open(options->layout);
        const auto media_type =
            options->format == "spdx" ? sbom::k_spdx_media_type : sbom::k_cyclonedx_media_type;
        const auto chosen = sboms_for_arch(layout, options->arch, media_type);
        fmt::print("{}\n", sbom::read_document(layout, chosen.front()));
        exit_code = 0;
    });
}

} // namespace distill::cli
