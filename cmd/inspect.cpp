#include <algorithm>
#include <map>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <distill/core/error.hpp>
#include <distill/core/text.hpp>
#include <distill/image/layout.hpp>
#include <distill/pipeline/pipeline.hpp>
#include <distill/runtime/profile.hpp>
#include <distill/sbom/sbom.hpp>
#include <distill/sbom/stored.hpp>

#include "cli.hpp"

namespace distill::cli {
namespace {

using json = nlohmann::ordered_json;
using Type = image::LayerEntry::Type;

/// One path of the image, with where it comes from.
struct Row {
    image::LayerEntry entry;
    std::string path; ///< "/usr/bin/java"
    sbom::Origin origin;
};

const char* type_name(Type type) {
    switch (type) {
    case Type::file:
        return "file";
    case Type::directory:
        return "directory";
    case Type::symlink:
        return "symlink";
    case Type::hard_link:
        return "hardlink";
    case Type::other:
        break;
    }
    return "other";
}

std::string origin_text(const Row& row, const sbom::Inventory& inventory) {
    if (!row.origin.package.empty()) {
        const auto found = inventory.packages.find(row.origin.package);
        return found == inventory.packages.end()
                   ? row.origin.package
                   : fmt::format("{} {}", found->second.name, found->second.version);
    }
    if (!row.origin.generated.empty()) {
        return row.origin.generated;
    }
    return row.entry.type == Type::directory ? "-" : "(not in the SBOM)";
}

/// "/usr/lib/jvm/x" -> "/usr".
std::string top_directory(const std::string& path) {
    const auto slash = path.find('/', 1);
    return slash == std::string::npos ? path : path.substr(0, slash);
}

std::string why_sentence(const sbom::InventoryPackage& package) {
    if (package.why.size() <= 1) {
        return fmt::format("{} is in the image because the manifest asks for it", package.name);
    }
    return fmt::format("{} is in the image because the manifest asks for {}, which needs {}",
                       package.name, package.why.front(),
                       fmt::join(package.why.begin() + 1, package.why.end(), ", which needs "));
}

json package_json(const sbom::InventoryPackage& package) {
    return json{{"name", package.name},
                {"version", package.version},
                {"arch", package.arch},
                {"source", package.source},
                {"purl", package.purl},
                {"license", package.license.empty() ? json() : json(package.license)},
                {"why", package.why}};
}

json row_json(const Row& row, const sbom::Inventory& inventory) {
    json item{{"path", row.path},
              {"type", type_name(row.entry.type)},
              {"mode", fmt::format("{:04o}", row.entry.mode)},
              {"uid", row.entry.uid},
              {"gid", row.entry.gid},
              {"size", row.entry.size}};
    if (!row.entry.link.empty()) {
        item["link"] = row.entry.link;
    }
    if (!row.origin.package.empty()) {
        const auto found = inventory.packages.find(row.origin.package);
        item["package"] = row.origin.package;
        item["version"] = found == inventory.packages.end() ? "" : found->second.version;
    } else if (!row.origin.generated.empty()) {
        item["generated"] = row.origin.generated;
    }
    return item;
}

void print_why(const std::string& path, const std::vector<Row>& rows,
               const sbom::Inventory& inventory, bool as_json) {
    auto wanted = path;
    if (!wanted.starts_with('/')) {
        wanted.insert(0, 1, '/');
    }
    while (wanted.size() > 1 && wanted.ends_with('/')) {
        wanted.pop_back();
    }
    const auto found =
        std::find_if(rows.begin(), rows.end(), [&](const Row& row) { return row.path == wanted; });
    if (found == rows.end()) {
        throw Error(fmt::format("`{}` is not in the image", core::printable(wanted)),
                    ExitCode::usage);
    }
    const auto& row = *found;
    const auto package = inventory.packages.find(row.origin.package);
    if (as_json) {
        auto item = row_json(row, inventory);
        if (package != inventory.packages.end()) {
            item["why"] = package->second.why;
            item["because"] = why_sentence(package->second);
        }
        fmt::print("{}\n", item.dump(2));
        return;
    }
    const auto link = row.entry.link.empty() ? "" : fmt::format(" -> {}", row.entry.link);
    if (package != inventory.packages.end()) {
        const auto& p = package->second;
        fmt::print("{}{}: shipped by {} {} ({})\n", row.path, link, p.name, p.version, p.arch);
        fmt::print("  {}\n", why_sentence(p));
        if (p.why.size() > 1) {
            fmt::print("  chain: {}\n", fmt::join(p.why, " → "));
        }
    } else if (!row.origin.generated.empty()) {
        fmt::print("{}{}: {}\n", row.path, link, row.origin.generated);
    } else if (row.entry.type == Type::directory) {
        fmt::print("{}: a directory; the SBOMs, where origins come from, list files and links\n",
                   row.path);
    } else {
        fmt::print("{}{}: a {} the image's SBOM does not list\n", row.path, link,
                   type_name(row.entry.type));
    }
}

/// The image of the layout a variant names (its ref name is the image's, then `-VARIANT`), or
/// the image itself for an empty `variant`.
const image::ListedDescriptor& chosen_image(const image::Layout& layout,
                                            const std::string& variant) {
    const auto& top = layout.top();
    if (variant.empty()) {
        return top;
    }
    const auto ref = top.annotations.find(image::k_ref_name_annotation);
    const std::string wanted =
        (ref == top.annotations.end() ? std::string() : ref->second) + "-" + variant;
    for (const auto& entry : layout.index()) {
        const auto name = entry.annotations.find(image::k_ref_name_annotation);
        if (name != entry.annotations.end() && name->second == wanted) {
            return entry;
        }
    }
    throw Error(fmt::format("{} has no variant `{}` (no image named {})", layout.path().string(),
                            core::printable(variant), core::printable(wanted)),
                ExitCode::usage);
}

/// A label of the image's config (the first architecture's: the profile is the same for
/// every one).
std::string config_label(const image::LayoutImage& image, const char* label) {
    const auto& config = image.config_json;
    if (config.contains("config") && config["config"].is_object() &&
        config["config"].contains("Labels") && config["config"]["Labels"].is_object()) {
        const auto& labels = config["config"]["Labels"];
        if (labels.contains(label) && labels[label].is_string()) {
            return labels[label].get<std::string>();
        }
    }
    throw Error(fmt::format("the image {} has no label {}: was it built by a distill that "
                            "writes runtime profiles?",
                            image.descriptor.blob.digest, label));
}

void print_run(const image::Layout& layout, const std::string& variant, bool as_json,
               bool seccomp) {
    const auto& listed = chosen_image(layout, variant);
    const auto images = layout.images(listed);
    if (images.empty()) {
        throw Error(fmt::format("{}: the image lists no manifest", layout.path().string()));
    }
    const auto profile = config_label(images.front(), runtime::k_seccomp_label);
    if (seccomp) {
        // Pretty, as the file beside the image has it.
        fmt::print("{}\n", nlohmann::json::parse(profile).dump(2));
        return;
    }
    const auto settings =
        runtime::settings_from_json(config_label(images.front(), runtime::k_settings_label));
    const auto ref = listed.annotations.find(image::k_ref_name_annotation);
    const std::string image_name =
        fmt::format("oci:{}{}", layout.path().string(),
                    ref == listed.annotations.end() ? "" : ":" + ref->second);
    auto file = pipeline::seccomp_file_for(layout.path(), layout.is_archive()
                                                              ? pipeline::OutputFormat::oci_archive
                                                              : pipeline::OutputFormat::layout);
    std::error_code error;
    const bool beside = std::filesystem::is_regular_file(file, error);
    const std::string profile_file = beside ? file.string() : "PROFILE.json";
    const std::string k8s_profile =
        fmt::format("distill/{}.json", layout.path().filename().stem().string());
    if (as_json) {
        fmt::print(
            "{}\n",
            json{{"image", image_name},
                 {"settings", json::parse(runtime::settings_json(settings))},
                 {"seccomp_profile", beside ? json(profile_file) : json()},
                 {"podman", runtime::run_command("podman", settings, profile_file, image_name)},
                 {"docker", runtime::run_command("docker", settings, profile_file, "IMAGE")},
                 {"kubernetes", runtime::kubernetes_security_context(settings, k8s_profile)},
                 {"relaxed", runtime::relaxations(settings)}}
                .dump(2));
        return;
    }
    fmt::print("{} runs with the least privilege it needs as:\n\n", image_name);
    fmt::print("  {}\n\n", runtime::run_command("podman", settings, profile_file, image_name));
    fmt::print("  {}\n    (IMAGE: as docker loaded it, from `distill build --format "
               "docker-archive`)\n\n",
               runtime::run_command("docker", settings, profile_file, "IMAGE"));
    fmt::print("podman can take the profile from the image's label {} instead of the file: "
               "--seccomp-policy=image in place of --security-opt=seccomp=...\n",
               runtime::k_seccomp_label);
    if (!beside) {
        fmt::print("(no {} beside the layout: write it with `distill inspect {} --seccomp > "
                   "PROFILE.json`)\n",
                   file.string(), layout.path().string());
    }
    fmt::print("\nThe seccomp profile denies {} system calls the runtime's default allows or "
               "gates on capabilities (mount, ptrace, unshare, setns, keyctl, bpf, ...).\n",
               runtime::denied_count(settings));
    for (const auto& relaxed : runtime::relaxations(settings)) {
        fmt::print("The manifest relaxed it: {}.\n", relaxed);
    }
    fmt::print("\nKubernetes: copy the profile into the kubelet's seccomp directory as {}, then "
               "in the container:\n\n{}",
               k8s_profile, runtime::kubernetes_security_context(settings, k8s_profile));
    fmt::print("and mount an emptyDir volume (medium: Memory) at each of: {} (Kubernetes cannot "
               "mount it noexec)\n",
               fmt::join(settings.tmpfs, ", "));
}

/// What each variant of the layout adds to the image, a line each.
std::vector<std::string> variant_lines(const image::Layout& layout) {
    std::vector<std::string> lines;
    const auto& top = layout.top();
    const auto images = layout.images(top);
    for (const auto& entry : layout.index()) {
        const auto name = entry.annotations.find(image::k_ref_name_annotation);
        if (entry.blob.digest == top.blob.digest || name == entry.annotations.end()) {
            continue;
        }
        const auto siblings = layout.images(entry);
        if (siblings.empty() || images.empty()) {
            continue;
        }
        const auto& mine = images.front();
        const auto& theirs = siblings.front();
        std::vector<std::string> adds;
        if (theirs.layers.size() > mine.layers.size()) {
            std::uint64_t bytes = 0;
            for (std::size_t i = mine.layers.size(); i < theirs.layers.size(); ++i) {
                bytes += theirs.layers[i].size;
            }
            adds.push_back(fmt::format("{} layer(s) of {}",
                                       theirs.layers.size() - mine.layers.size(),
                                       core::human_size(bytes)));
        }
        const auto field = [](const image::LayoutImage& image, const char* key) {
            const auto& config = image.config_json;
            return config.contains("config") && config["config"].contains(key)
                       ? config["config"][key].dump()
                       : std::string("null");
        };
        for (const char* key : {"User", "Entrypoint", "Env"}) {
            if (field(mine, key) != field(theirs, key)) {
                adds.push_back(fmt::format("{} {}", key, field(theirs, key)));
            }
        }
        lines.push_back(fmt::format("{} ({}): {}", core::printable(name->second), entry.blob.digest,
                                    adds.empty() ? std::string("the same image")
                                                 : fmt::format("{}", fmt::join(adds, "; "))));
    }
    return lines;
}

} // namespace

void add_inspect_command(CLI::App& app, const GlobalOptions& /*globals*/, int& exit_code) {
    struct Options {
        std::string layout;
        std::string arch;
        std::string package;
        std::string why;
        bool json = false;
        bool run = false;
        bool seccomp = false;
        std::string variant;
    };
    auto options = std::make_shared<Options>();
    auto* command = app.add_subcommand(
        "inspect", "List every path of an image with where it comes from, and why");
    command->add_option("layout", options->layout, "The OCI image layout distill built")
        ->required();
    command->add_option("--arch", options->arch,
                        "The image of this architecture; needed when the layout holds several");
    command->add_option("--package", options->package, "Only the paths this package shipped");
    command
        ->add_option("--why", options->why,
                     "Why PATH is in the image: the package that shipped it and the "
                     "dependency chain from the manifest, or what distill generated it for")
        ->excludes("--package");
    command
        ->add_flag("--run", options->run,
                   "How to run the image with the least privilege it needs: podman and docker "
                   "flags, a Kubernetes securityContext")
        ->excludes("--package")
        ->excludes("--why");
    command
        ->add_flag("--seccomp", options->seccomp,
                   "Print the image's seccomp profile (as OUTPUT.seccomp.json beside it)")
        ->excludes("--package")
        ->excludes("--why")
        ->excludes("--run");
    command->add_option("--variant", options->variant,
                        "With --run or --seccomp: the variant (debug, root) instead of the image");
    command->add_flag("--json", options->json, "Print the result as JSON on stdout");
    command->footer(
        R"(Every path of the layer, sorted, with type, mode, owner, size and origin: the
package and version that shipped it, or what distill generated it for (the
package database, the CA bundle, the Java truststore, accounts, alternatives
links). Then the totals per package and per top directory. The origins come
from the image's CycloneDX SBOM in the layout; the paths from the layer itself.

--run prints how to run the image with its runtime profile (the config labels
io.containers.seccomp.profile and dev.distill.runtime): the podman and docker
flags (read-only root, tmpfs /tmp, no capability, no new privileges, the seccomp
profile, the user) and a Kubernetes securityContext with a Localhost seccomp
profile. --seccomp prints the profile itself. The listing ends with what each
variant (TAG-debug, TAG-root) adds to the image.

Examples:
  distill inspect out/java17
  distill inspect out/java17 --run
  distill inspect out/java17 --run --variant root
  distill inspect out/java17 --seccomp > java17.seccomp.json
  distill inspect out/java17 --package libnss3
  distill inspect out/java17 --why /usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so
  distill inspect out/java17 --why /etc/ssl/certs/java/cacerts)");
    command->callback([options, &exit_code] {
        const auto layout = image::Layout::open(options->layout);
        if (options->run || options->seccomp) {
            print_run(layout, options->variant, options->json, options->seccomp);
            exit_code = 0;
            return;
        }
        if (!options->variant.empty()) {
            throw Error("--variant goes with --run or --seccomp", ExitCode::usage);
        }
        const auto stored =
            sboms_for_arch(layout, options->arch, sbom::k_cyclonedx_media_type).front();
        const auto inventory = sbom::read_inventory(sbom::read_document(layout, stored));
        const auto images = layout.images();
        const auto image = std::find_if(images.begin(), images.end(), [&](const auto& candidate) {
            return candidate.descriptor.blob.digest == stored.subject;
        });
        if (image == images.end() || image->layers.empty()) {
            throw Error(fmt::format("{}: the image {} has no layer", layout.path().string(),
                                    stored.subject));
        }
        if (!options->package.empty() && !inventory.packages.contains(options->package)) {
            throw Error(fmt::format("{} is not a package of the image", options->package),
                        ExitCode::usage);
        }
        std::vector<Row> rows;
        for (const auto& blob : image->layers) {
            layout.read_layer(blob, [&](const image::LayerEntry& entry, const auto& /*bytes*/) {
                Row row{entry, "/" + entry.path, {}};
                while (row.path.starts_with("/./") || row.path.starts_with("//")) {
                    row.path.erase(1, row.path[1] == '.' ? 2 : 1);
                }
                while (row.path.size() > 1 && row.path.ends_with('/')) {
                    row.path.pop_back();
                }
                if (const auto found = inventory.paths.find(row.path);
                    found != inventory.paths.end()) {
                    row.origin = found->second;
                }
                rows.push_back(std::move(row));
            });
        }
        std::sort(rows.begin(), rows.end(),
                  [](const Row& a, const Row& b) { return a.path < b.path; });
        exit_code = 0;
        if (!options->why.empty()) {
            print_why(options->why, rows, inventory, options->json);
            return;
        }
        struct Total {
            std::uint64_t files = 0;
            std::uint64_t bytes = 0;
        };
        std::map<std::string, Total> by_package;
        std::map<std::string, Total> by_directory;
        std::vector<const Row*> shown;
        for (const auto& row : rows) {
            if (!options->package.empty() && row.origin.package != options->package) {
                continue;
            }
            shown.push_back(&row);
            if (row.entry.type == Type::directory) {
                continue;
            }
            const auto owner = !row.origin.package.empty() ? row.origin.package : "(distill)";
            by_package[owner].files += 1;
            by_package[owner].bytes += row.entry.size;
            by_directory[top_directory(row.path)].files += 1;
            by_directory[top_directory(row.path)].bytes += row.entry.size;
        }
        if (options->json) {
            json entries = json::array();
            for (const auto* row : shown) {
                entries.push_back(row_json(*row, inventory));
            }
            json packages = json::array();
            for (const auto& [name, total] : by_package) {
                json item = inventory.packages.contains(name)
                                ? package_json(inventory.packages.at(name))
                                : json{{"name", name}};
                item["files"] = total.files;
                item["bytes"] = total.bytes;
                packages.push_back(std::move(item));
            }
            json directories = json::array();
            for (const auto& [path, total] : by_directory) {
                directories.push_back(
                    {{"path", path}, {"files", total.files}, {"bytes", total.bytes}});
            }
            fmt::print("{}\n", json{{"layout", layout.path().string()},
                                    {"image", stored.subject},
                                    {"arch", stored.platform.architecture},
                                    {"entries", std::move(entries)},
                                    {"packages", std::move(packages)},
                                    {"directories", std::move(directories)}}
                                   .dump(2));
            return;
        }
        for (const auto* row : shown) {
            const auto link = row->entry.link.empty() ? "" : " -> " + row->entry.link;
            fmt::print("{:<9} {:04o} {:>5}:{:<5} {:>10}  {}{}  [{}]\n", type_name(row->entry.type),
                       row->entry.mode, row->entry.uid, row->entry.gid, row->entry.size, row->path,
                       link, origin_text(*row, inventory));
        }
        fmt::print("\nper package (files, bytes):\n");
        for (const auto& [name, total] : by_package) {
            fmt::print("  {:<40} {:>6} {:>12}\n", name, total.files, total.bytes);
        }
        fmt::print("\nper top directory (files, bytes):\n");
        for (const auto& [path, total] : by_directory) {
            fmt::print("  {:<40} {:>6} {:>12}\n", path, total.files, total.bytes);
        }
        const auto variants = variant_lines(layout);
        if (!variants.empty()) {
            fmt::print("\nvariants (what each adds to the image):\n");
            for (const auto& line : variants) {
                fmt::print("  {}\n", line);
            }
        }
    });
}

} // namespace distill::cli
