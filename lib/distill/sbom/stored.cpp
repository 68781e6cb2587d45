#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <distill/core/error.hpp>
#include <distill/core/text.hpp>
#include <distill/distro/arch.hpp>
#include <distill/sbom/sbom.hpp>
#include <distill/sbom/stored.hpp>

namespace distill::sbom {
namespace {

using json = nlohmann::json;

constexpr std::uint64_t k_max_document = 256U << 20U;

std::string text_of(const json& value, std::string_view key) {
    const auto found = value.find(key);
    return found != value.end() && found->is_string() ? found->get<std::string>() : std::string();
}

/// A component's property `name`, or empty.
std::string property(const json& component, std::string_view name) {
    const auto properties = component.find("properties");
    if (properties == component.end() || !properties->is_array()) {
        return {};
    }
    for (const auto& item : *properties) {
        if (item.is_object() && text_of(item, "name") == name) {
            return text_of(item, "value");
        }
    }
    return {};
}

std::vector<std::string> split_chain(std::string_view text) {
    std::vector<std::string> out;
    constexpr std::string_view arrow = " → ";
    while (!text.empty()) {
        const auto at = text.find(arrow);
        out.emplace_back(text.substr(0, at));
        if (at == std::string_view::npos) {
            break;
        }
        text.remove_prefix(at + arrow.size());
    }
    return out;
}

} // namespace

std::vector<StoredSbom> stored_sboms(const image::Layout& layout) {
    std::map<std::string, image::Platform> images;
    for (const auto& image : layout.images()) {
        images.emplace(image.descriptor.blob.digest,
                       image.descriptor.platform.value_or(
                           image::Platform{"linux", text_of(image.config_json, "architecture"),
                                           text_of(image.config_json, "variant")}));
    }
    std::vector<StoredSbom> out;
    for (const auto& listed : layout.index()) {
        if (listed.blob.media_type != image::k_manifest_media_type ||
            images.contains(listed.blob.digest)) {
            continue;
        }
        const auto where =
            fmt::format("{}: artifact {}", layout.path().string(), listed.blob.digest);
        const auto manifest = json::parse(layout.read_blob(listed.blob), nullptr, false);
        if (!manifest.is_object()) {
            throw Error(fmt::format("{}: not a JSON object", where));
        }
        const auto artifact_type = text_of(manifest, "artifactType");
        if (artifact_type != k_spdx_media_type && artifact_type != k_cyclonedx_media_type) {
            continue;
        }
        const auto subject = manifest.find("subject");
        const auto layers = manifest.find("layers");
        if (subject == manifest.end() || layers == manifest.end() || !layers->is_array() ||
            layers->size() != 1) {
            throw Error(fmt::format("{}: an SBOM artifact needs a subject and one layer", where));
        }
        const auto about = image::read_descriptor(*subject, where + ": subject").blob;
        const auto found = images.find(about.digest);
        if (found == images.end()) {
            continue; // about something this layout does not hold
        }
        StoredSbom sbom;
        sbom.platform = found->second;
        sbom.subject = about.digest;
        sbom.artifact = listed.blob;
        sbom.document = image::read_descriptor(layers->front(), where + ": layers[0]").blob;
        sbom.media_type = artifact_type;
        out.push_back(std::move(sbom));
    }
    return out;
}

bool names_platform(std::string_view arch, const image::Platform& platform) {
    if (arch == platform.architecture) {
        return true;
    }
    for (const auto& row : distro::arch_table()) {
        if (row.name == arch && row.oci == platform.architecture &&
            (platform.variant.empty() || row.variant == platform.variant)) {
            return true;
        }
    }
    return false;
}

std::string read_document(const image::Layout& layout, const StoredSbom& sbom) {
    return layout.read_blob(sbom.document, k_max_document);
}

Inventory read_inventory(std::string_view cyclonedx) {
    const auto document = json::parse(cyclonedx, nullptr, false);
    if (!document.is_object() || text_of(document, "bomFormat") != "CycloneDX") {
        throw Error("the CycloneDX SBOM is not a CycloneDX JSON document");
    }
    const auto components = document.find("components");
    if (components == document.end() || !components->is_array()) {
        throw Error("the CycloneDX SBOM lists no components");
    }
    Inventory inventory;
    for (const auto& component : *components) {
        if (!component.is_object()) {
            continue;
        }
        const auto type = text_of(component, "type");
        if (type == "library") {
            InventoryPackage package;
            package.name = text_of(component, "name");
            package.version = text_of(component, "version");
            package.purl = text_of(component, "purl");
            package.arch = property(component, "distill:arch");
            package.source = property(component, "distill:source");
            package.why = split_chain(property(component, "distill:why"));
            if (const auto licenses = component.find("licenses");
                licenses != component.end() && licenses->is_array() && !licenses->empty() &&
                licenses->front().is_object()) {
                package.license = text_of(licenses->front(), "expression");
            }
            inventory.packages[package.name] = std::move(package);
        } else if (type == "file") {
            Origin origin;
            origin.package = property(component, "distill:package");
            origin.generated = property(component, "distill:generated");
            inventory.paths[text_of(component, "name")] = std::move(origin);
        }
    }
    return inventory;
}

} // namespace distill::sbom
