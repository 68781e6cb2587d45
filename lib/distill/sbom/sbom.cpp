#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <utility>

#include <fmt/format.h>

#include <distill/core/digest.hpp>
#include <distill/core/error.hpp>
#include <distill/core/text.hpp>
#include <distill/distro/distro.hpp>
#include <distill/image/oci.hpp>
#include <distill/sbom/sbom.hpp>

namespace distill::sbom {
namespace {

using json = nlohmann::ordered_json;
using unpack::EntryType;

constexpr std::uint64_t k_max_os_release = 64U << 10U;
constexpr std::string_view k_no_assertion = "NOASSERTION";
constexpr std::string_view k_tool = "distill-" DISTILL_VERSION;

/// Percent-encodes everything but the unreserved characters of RFC 3986 (the purl
/// specification's rule for names, versions and qualifier values).
std::string percent_encode(std::string_view text) {
    std::string out;
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        const bool unreserved = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
                                (u >= '0' && u <= '9') || c == '-' || c == '.' || c == '_' ||
                                c == '~';
        if (unreserved) {
            out += c;
        } else {
            out += fmt::format("%{:02X}", u);
        }
    }
    return out;
}

/// "Name <address>" as SPDX's "Person: Name (address)".
std::string spdx_person(std::string_view maintainer) {
    if (maintainer.empty()) {
        return std::string(k_no_assertion);
    }
    const auto open = maintainer.find('<');
    const auto close = maintainer.find('>', open == std::string_view::npos ? 0 : open);
    if (open == std::string_view::npos || close == std::string_view::npos) {
        return fmt::format("Person: {}", core::trim(maintainer));
    }
    return fmt::format("Person: {} ({})", core::trim(maintainer.substr(0, open)),
                       maintainer.substr(open + 1, close - open - 1));
}

/// "Name <address>" as CycloneDX's organizational entity.
json cyclonedx_supplier(std::string_view maintainer) {
    const auto open = maintainer.find('<');
    const auto close = maintainer.find('>', open == std::string_view::npos ? 0 : open);
    if (open == std::string_view::npos || close == std::string_view::npos) {
        return json{{"name", core::trim(maintainer)}};
    }
    const auto name = core::trim(maintainer.substr(0, open));
    const auto email = maintainer.substr(open + 1, close - open - 1);
    return json{{"name", name}, {"contact", json::array({json{{"name", name}, {"email", email}}})}};
}

/// A UUID (version 5 layout) made from `seed`: the same image always gets the same one.
std::string uuid_from(std::string_view seed) {
    auto hex = core::sha256_hex(seed).substr(0, 32);
    hex[12] = '5';
    hex[16] = "89ab"[static_cast<std::size_t>(hex[16] - (hex[16] >= 'a' ? 'a' - 10 : '0')) % 4];
    return fmt::format("{}-{}-{}-{}-{}", hex.substr(0, 8), hex.substr(8, 4), hex.substr(12, 4),
                       hex.substr(16, 4), hex.substr(20, 12));
}

std::string digest_hex(std::string_view digest) {
    return std::string(digest.starts_with("sha256:") ? digest.substr(7) : digest);
}

std::string basename(std::string_view url) {
    const auto slash = url.rfind('/');
    return std::string(slash == std::string_view::npos ? url : url.substr(slash + 1));
}

/// A file of the layer as the documents list it.
struct File {
    const std::string* path;
    const unpack::Entry* entry;
    std::string sha1;
};

/// A package with what the documents say of it.
struct Package {
    const package::Record* record;
    PackageFacts facts;
    std::string purl;
    std::string spdx_id;
    std::size_t files = 0;
};

std::string why_text(const package::Record& record) {
    return fmt::format("{}", fmt::join(record.why, " → "));
}

class Maker {
public:
    explicit Maker(const Inputs& inputs)
        : m_in(inputs)
        , m_os(os_release(*inputs.tree)) {
        const auto& records = m_in.tree->packages();
        for (std::size_t i = 0; i < records.size(); ++i) {
            const auto& record = records[i];
            Package package{&record, m_in.distro->package_facts(record, *m_in.tree), {}, {}, 0};
            package.purl = purl(record, package.facts, m_os);
            package.spdx_id = fmt::format("SPDXRef-Package-{}", i + 1);
            m_by_name.emplace(record.name, m_packages.size());
            m_packages.push_back(std::move(package));
        }
        for (const auto& [path, entry] : m_in.tree->entries()) {
            if (entry.type == EntryType::directory) {
                continue;
            }
            std::string sha1;
            if (entry.type != EntryType::symlink) {
                const auto found = m_in.sha1->find(path);
                if (found == m_in.sha1->end()) {
                    throw Error(fmt::format("`/{}`: not in the layer as written", path));
                }
                sha1 = found->second;
            }
            if (auto* owner = package_of(entry); owner != nullptr) {
                ++owner->files;
            }
            m_files.push_back(File{&path, &entry, std::move(sha1)});
        }
    }

    Documents make() { return Documents{spdx().dump(1), cyclonedx().dump(1)}; }

private:
    Package* package_of(const unpack::Entry& entry) {
        const auto found = m_by_name.find(entry.origin);
        return found == m_by_name.end() ? nullptr : &m_packages[found->second];
    }

    std::string generated_text(const unpack::Entry& entry) const {
        if (entry.origin == unpack::k_manifest_files) {
            return entry.reason.empty() ? "added by the manifest" : entry.reason;
        }
        return fmt::format("generated by distill: {}",
                           entry.reason.empty() ? "what a maintainer script would have made"
                                                : entry.reason);
    }

    [[nodiscard]] std::string image_purl() const {
        return fmt::format("pkg:oci/{}@{}?arch={}", percent_encode(m_in.name),
                           percent_encode(m_in.manifest_digest), percent_encode(m_in.arch));
    }

    json spdx() {
        const auto hex = digest_hex(m_in.manifest_digest);
        json packages = json::array();
        packages.push_back(
            {{"SPDXID", "SPDXRef-Image"},
             {"name", m_in.name},
             {"versionInfo", m_in.manifest_digest},
             {"downloadLocation", k_no_assertion},
             {"filesAnalyzed", false},
             {"checksums", json::array({{{"algorithm", "SHA256"}, {"checksumValue", hex}}})},
             {"primaryPackagePurpose", "CONTAINER"},
             {"externalRefs", json::array({{{"referenceCategory", "PACKAGE-MANAGER"},
                                            {"referenceType", "purl"},
                                            {"referenceLocator", image_purl()}}})},
             {"comment", fmt::format("the image manifest of {} for {}", m_in.name, m_in.arch)}});
        packages.push_back({{"SPDXID", "SPDXRef-OperatingSystem"},
                            {"name", m_os.id},
                            {"versionInfo", m_os.version_id},
                            {"downloadLocation", k_no_assertion},
                            {"filesAnalyzed", false},
                            {"primaryPackagePurpose", "OPERATING_SYSTEM"},
                            {"description", m_os.pretty_name}});
        json relationships = json::array();
        const auto relate = [&](const std::string& from, std::string_view type,
                                const std::string& to) {
            relationships.push_back(
                {{"spdxElementId", from}, {"relationshipType", type}, {"relatedSpdxElement", to}});
        };
        relate("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image");
        relate("SPDXRef-Image", "CONTAINS", "SPDXRef-OperatingSystem");
        for (const auto& package : m_packages) {
            const auto& record = *package.record;
            json item{
                {"SPDXID", package.spdx_id},
                {"name", record.name},
                {"versionInfo", record.version},
                {"supplier", spdx_person(package.facts.supplier)},
                {"downloadLocation", record.url.empty() ? std::string(k_no_assertion) : record.url},
                {"filesAnalyzed", false}};
            if (!record.url.empty()) {
                item["packageFileName"] = basename(record.url);
            }
            if (core::is_sha256_hex(record.sha256)) {
                item["checksums"] =
                    json::array({{{"algorithm", "SHA256"}, {"checksumValue", record.sha256}}});
            }
            if (!package.facts.homepage.empty()) {
                item["homepage"] = package.facts.homepage;
            }
            item["sourceInfo"] = fmt::format("built from the source package {} {}", record.source,
                                             package.facts.source_version);
            item["licenseConcluded"] = k_no_assertion;
            item["licenseDeclared"] = package.facts.license.value_or(std::string(k_no_assertion));
            item["copyrightText"] = k_no_assertion;
            item["externalRefs"] = json::array({{{"referenceCategory", "PACKAGE-MANAGER"},
                                                 {"referenceType", "purl"},
                                                 {"referenceLocator", package.purl}}});
            item["comment"] =
                fmt::format("{} for {}; in the image because: {}; {} of its files "
                            "are in the image",
                            record.name, record.arch, why_text(record), package.files);
            packages.push_back(std::move(item));
            relate("SPDXRef-Image", "CONTAINS", package.spdx_id);
            for (const auto& dependency : record.depends) {
                if (const auto found = m_by_name.find(dependency); found != m_by_name.end()) {
                    relate(package.spdx_id, "DEPENDS_ON", m_packages[found->second].spdx_id);
                }
            }
        }
        json files = json::array();
        std::size_t number = 0;
        for (const auto& file : m_files) {
            if (file.entry->type == EntryType::symlink) {
                continue;
            }
            const auto id = fmt::format("SPDXRef-File-{}", ++number);
            json item{
                {"SPDXID", id},
                {"fileName", "./" + *file.path},
                {"checksums",
                 json::array({{{"algorithm", "SHA1"}, {"checksumValue", file.sha1}},
                              {{"algorithm", "SHA256"}, {"checksumValue", file.entry->sha256}}})},
                {"licenseConcluded", k_no_assertion},
                {"copyrightText", k_no_assertion}};
            if (const auto* owner = package_of(*file.entry); owner != nullptr) {
                relate(owner->spdx_id, "CONTAINS", id);
            } else {
                item["comment"] = generated_text(*file.entry);
                relate("SPDXRef-Image", "CONTAINS", id);
            }
            files.push_back(std::move(item));
        }
        return json{{"spdxVersion", "SPDX-2.3"},
                    {"dataLicense", "CC0-1.0"},
                    {"SPDXID", "SPDXRef-DOCUMENT"},
                    {"name", fmt::format("{}-{}", m_in.name, m_in.arch)},
                    {"documentNamespace",
                     fmt::format("urn:distill:spdx:{}:{}:{}", percent_encode(m_in.name),
                                 percent_encode(m_in.arch), hex)},
                    {"creationInfo",
                     {{"created", image::rfc3339(m_in.epoch)},
                      {"creators", json::array({fmt::format("Tool: {}", k_tool)})}}},
                    {"packages", std::move(packages)},
                    {"files", std::move(files)},
                    {"relationships", std::move(relationships)}};
    }

    json cyclonedx() {
        json components = json::array();
        components.push_back({{"type", "operating-system"},
                              {"bom-ref", "os"},
                              {"name", m_os.id},
                              {"version", m_os.version_id},
                              {"description", m_os.pretty_name}});
        json dependencies = json::array();
        json image_needs = json::array({"os"});
        for (const auto& package : m_packages) {
            const auto& record = *package.record;
            json item{{"type", "library"},
                      {"bom-ref", package.purl},
                      {"name", record.name},
                      {"version", record.version}};
            if (!package.facts.supplier.empty()) {
                item["supplier"] = cyclonedx_supplier(package.facts.supplier);
            }
            if (package.facts.license) {
                item["licenses"] = json::array({{{"expression", *package.facts.license}}});
            }
            item["purl"] = package.purl;
            if (core::is_sha256_hex(record.sha256)) {
                item["hashes"] = json::array({{{"alg", "SHA-256"}, {"content", record.sha256}}});
            }
            json references = json::array();
            if (!record.url.empty()) {
                references.push_back({{"type", "distribution"}, {"url", record.url}});
            }
            if (!package.facts.homepage.empty()) {
                references.push_back({{"type", "website"}, {"url", package.facts.homepage}});
            }
            if (!references.empty()) {
                item["externalReferences"] = std::move(references);
            }
            item["properties"] = json::array(
                {{{"name", "distill:arch"}, {"value", record.arch}},
                 {{"name", "distill:source"},
                  {"value", fmt::format("{} {}", record.source, package.facts.source_version)}},
                 {{"name", "distill:why"}, {"value", why_text(record)}},
                 {{"name", "distill:files"}, {"value", std::to_string(package.files)}}});
            components.push_back(std::move(item));
            image_needs.push_back(package.purl);
            json needs = json::array();
            for (const auto& dependency : record.depends) {
                if (const auto found = m_by_name.find(dependency); found != m_by_name.end()) {
                    needs.push_back(m_packages[found->second].purl);
                }
            }
            dependencies.push_back({{"ref", package.purl}, {"dependsOn", std::move(needs)}});
        }
        for (const auto& file : m_files) {
            const auto name = "/" + *file.path;
            json item{{"type", "file"}, {"bom-ref", "file:" + name}, {"name", name}};
            json properties = json::array();
            if (file.entry->type == EntryType::symlink) {
                properties.push_back({{"name", "distill:symlink"}, {"value", file.entry->link}});
            } else {
                item["hashes"] =
                    json::array({{{"alg", "SHA-1"}, {"content", file.sha1}},
                                 {{"alg", "SHA-256"}, {"content", file.entry->sha256}}});
            }
            if (const auto* owner = package_of(*file.entry); owner != nullptr) {
                properties.push_back({{"name", "distill:package"}, {"value", owner->record->name}});
            } else {
                properties.push_back(
                    {{"name", "distill:generated"}, {"value", generated_text(*file.entry)}});
            }
            item["properties"] = std::move(properties);
            components.push_back(std::move(item));
        }
        dependencies.insert(dependencies.begin(),
                            json{{"ref", "image"}, {"dependsOn", std::move(image_needs)}});
        dependencies.push_back({{"ref", "os"}, {"dependsOn", json::array()}});
        return json{
            {"bomFormat", "CycloneDX"},
            {"specVersion", "1.6"},
            {"serialNumber", "urn:uuid:" + uuid_from("cyclonedx " + m_in.manifest_digest)},
            {"version", 1},
            {"metadata",
             {{"timestamp", image::rfc3339(m_in.epoch)},
              {"tools",
               {{"components", json::array({{{"type", "application"},
                                             {"name", "distill"},
                                             {"version", DISTILL_VERSION}}})}}},
              {"component",
               {{"type", "container"},
                {"bom-ref", "image"},
                {"name", m_in.name},
                {"version", m_in.manifest_digest},
                {"purl", image_purl()},
                {"properties", json::array({{{"name", "distill:arch"}, {"value", m_in.arch}}})}}}}},
            {"components", std::move(components)},
            {"dependencies", std::move(dependencies)}};
    }

    const Inputs& m_in;
    OsRelease m_os;
    std::vector<Package> m_packages;
    std::map<std::string, std::size_t> m_by_name;
    std::vector<File> m_files;
};

/// An os-release value: quotes removed and backslash escapes undone, as the format says.
std::string unquote(std::string_view value) {
    value = core::trim(value);
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
        value = value.substr(1, value.size() - 2);
    }
    std::string out;
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (value[i] == '\\' && i + 1 < value.size()) {
            ++i;
        }
        out += value[i];
    }
    return out;
}

} // namespace

OsRelease os_release(const unpack::Tree& tree) {
    const unpack::Entry* entry = nullptr;
    std::string path;
    for (const char* candidate : {"etc/os-release", "usr/lib/os-release"}) {
        entry = tree.find(candidate);
        path = candidate;
        if (entry != nullptr && entry->type == EntryType::symlink) {
            // Debian's /etc/os-release is a link to ../usr/lib/os-release.
            continue;
        }
        if (entry != nullptr) {
            break;
        }
    }
    OsRelease os;
    if (entry == nullptr || entry->type == EntryType::symlink || entry->size > k_max_os_release) {
        return os;
    }
    const auto text = tree.read(path);
    if (core::sha256_hex(text) != entry->sha256) {
        throw VerificationError(
            fmt::format("`/{}` differs from what was recorded when it was read", path));
    }
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string::npos) {
            end = text.size();
        }
        const std::string_view line(text.data() + start, end - start);
        start = end + 1;
        const auto equals = line.find('=');
        if (equals == std::string_view::npos) {
            continue;
        }
        const auto key = core::trim(line.substr(0, equals));
        const auto value = unquote(line.substr(equals + 1));
        if (key == "ID") {
            os.id = value;
        } else if (key == "VERSION_ID") {
            os.version_id = value;
        } else if (key == "PRETTY_NAME") {
            os.pretty_name = value;
        }
    }
    return os;
}

std::string purl(const package::Record& record, const PackageFacts& facts, const OsRelease& os) {
    const auto distro = os.version_id.empty() ? os.id : fmt::format("{}-{}", os.id, os.version_id);
    const auto upstream =
        facts.purl_type == "deb"
            ? fmt::format("{}@{}", record.source,
                          facts.source_version.empty() ? record.version : facts.source_version)
            : record.source;
    return fmt::format("pkg:{}/{}/{}@{}?arch={}&distro={}&upstream={}", facts.purl_type,
                       percent_encode(os.id), percent_encode(record.name),
                       percent_encode(record.version), percent_encode(record.arch),
                       percent_encode(distro), percent_encode(upstream));
}

Documents make(const Inputs& inputs) {
    return Maker(inputs).make();
}

std::string artifact_manifest(std::string_view media_type, const image::Descriptor& document,
                              const image::Descriptor& subject, std::string_view title,
                              std::int64_t epoch) {
    const json manifest{
        {"schemaVersion", 2},
        {"mediaType", image::k_manifest_media_type},
        {"artifactType", media_type},
        {"config",
         {{"mediaType", k_empty_media_type},
          {"digest", "sha256:" + core::sha256_hex(k_empty_config)},
          {"size", k_empty_config.size()},
          {"data", "e30="}}},
        {"layers", json::array({{{"mediaType", media_type},
                                 {"digest", document.digest},
                                 {"size", document.size},
                                 {"annotations", {{"org.opencontainers.image.title", title}}}}})},
        {"subject",
         {{"mediaType", subject.media_type}, {"digest", subject.digest}, {"size", subject.size}}},
        {"annotations", {{"org.opencontainers.image.created", image::rfc3339(epoch)}}}};
    return manifest.dump();
}

} // namespace distill::sbom
