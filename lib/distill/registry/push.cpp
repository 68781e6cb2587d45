#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <distill/core/digest.hpp>
#include <distill/core/error.hpp>
#include <distill/core/fs.hpp>
#include <distill/image/oci.hpp>
#include <distill/registry/push.hpp>

namespace distill::registry {
namespace {

// distill writes one level of index; a layout from elsewhere may nest a few.
constexpr int k_max_depth = 4;
// The most blobs and manifests one push takes from a layout.
constexpr std::size_t k_max_parts = 10000;
// The most blobs remembered per registry for mounts.
constexpr std::size_t k_max_hints = 20000;

/// A manifest or index to PUT, with its bytes.
struct Document {
    image::Descriptor blob;
    std::string bytes;
    std::string subject; ///< a referrer's subject digest; empty for the image's own
    std::string artifact_type;
    nlohmann::json annotations;
};

/// What the image (and its referrers) consist of, children before parents.
struct Parts {
    std::vector<image::Descriptor> blobs; ///< configs and layers, each once
    std::vector<Document> manifests;      ///< the image's own, the top last
    std::vector<Document> referrers;
};

image::Descriptor descriptor_of(const nlohmann::json& json, const std::string& origin) {
    return image::read_descriptor(json, origin).blob;
}

class Collector {
public:
    Collector(const image::Layout& layout, const image::ListedDescriptor& top)
        : m_layout(layout)
        , m_top(top) {}

    Parts collect() {
        const auto& top = m_top;
        add(top.blob, 0, m_parts.manifests, {});
        std::set<std::string> own;
        for (const auto& document : m_parts.manifests) {
            own.insert(document.blob.digest);
        }
        // Artifacts about the image (SBOMs, signatures) are listed beside it in index.json.
        for (const auto& entry : m_layout.index()) {
            if (entry.blob.digest == top.blob.digest) {
                continue;
            }
            const auto bytes = m_layout.read_blob(entry.blob);
            const auto json = parse(bytes, entry.blob.digest);
            if (!json.contains("subject")) {
                continue;
            }
            const auto subject = descriptor_of(json["subject"], entry.blob.digest);
            if (!own.contains(subject.digest)) {
                continue;
            }
            add(entry.blob, 0, m_parts.referrers, subject.digest);
        }
        return std::move(m_parts);
    }

private:
    static nlohmann::json parse(const std::string& bytes, const std::string& origin) {
        try {
            auto json = nlohmann::json::parse(bytes);
            if (!json.is_object()) {
                throw Error(fmt::format("{}: not a JSON object", origin));
            }
            return json;
        } catch (const nlohmann::json::exception& e) {
            throw Error(fmt::format("{}: not JSON: {}", origin, e.what()));
        }
    }

    void count() {
        if (++m_count > k_max_parts) {
            throw Error(fmt::format("{}: more than {} blobs and manifests",
                                    m_layout.path().string(), k_max_parts));
        }
    }

    void add_blob(const image::Descriptor& blob) {
        if (m_blobs.insert(blob.digest).second) {
            count();
            m_parts.blobs.push_back(blob);
        }
    }

    void add(const image::Descriptor& blob, int depth, std::vector<Document>& into,
             const std::string& subject) {
        if (depth > k_max_depth) {
            throw Error(fmt::format("{}: indexes nested deeper than {}", m_layout.path().string(),
                                    k_max_depth));
        }
        if (!m_documents.insert(blob.digest).second) {
            return;
        }
        count();
        Document document{blob, m_layout.read_blob(blob), subject, {}, {}};
        const auto json = parse(document.bytes, blob.digest);
        if (json.contains("manifests")) {
            if (!json["manifests"].is_array()) {
                throw Error(fmt::format("{}: `manifests` is not a list", blob.digest));
            }
            for (const auto& child : json["manifests"]) {
                add(descriptor_of(child, blob.digest), depth + 1, into, {});
            }
        } else {
            if (json.contains("config")) {
                const auto config = descriptor_of(json["config"], blob.digest);
                add_blob(config);
                document.artifact_type = config.media_type;
            }
            for (const char* key : {"layers", "blobs"}) {
                if (!json.contains(key)) {
                    continue;
                }
                if (!json[key].is_array()) {
                    throw Error(fmt::format("{}: `{}` is not a list", blob.digest, key));
                }
                for (const auto& layer : json[key]) {
                    add_blob(descriptor_of(layer, blob.digest));
                }
            }
        }
        if (json.contains("artifactType") && json["artifactType"].is_string()) {
            document.artifact_type = json["artifactType"].get<std::string>();
        }
        if (json.contains("annotations") && json["annotations"].is_object()) {
            document.annotations = json["annotations"];
        }
        into.push_back(std::move(document));
    }

    const image::Layout& m_layout;
    const image::ListedDescriptor& m_top;
    Parts m_parts;
    std::set<std::string> m_blobs;
    std::set<std::string> m_documents;
    std::size_t m_count = 0;
};

/// The verified file of a blob: the layout's own for a directory, else a copy in a temporary
/// directory.
class BlobFiles {
public:
    explicit BlobFiles(const image::Layout& layout)
        : m_layout(layout) {}

    /// Each blob is read (and checked) once, however many references it goes to.
    std::filesystem::path get(const image::Descriptor& blob) {
        if (const auto found = m_checked.find(blob.digest); found != m_checked.end()) {
            return found->second;
        }
        std::filesystem::path path;
        if (!m_layout.is_archive()) {
            // Read whole: stream_blob throws unless the bytes are the digest's.
            m_layout.stream_blob(blob, [](std::span<const std::byte>) {});
            path = m_layout.path() / "blobs" / "sha256" / blob.digest.substr(7);
        } else {
            if (!m_temp) {
                m_temp.emplace("distill-push-");
            }
            path = m_temp->path() / blob.digest.substr(7);
            core::AtomicFile file(path);
            m_layout.stream_blob(blob, [&](std::span<const std::byte> data) { file.write(data); });
            file.commit();
        }
        return m_checked.emplace(blob.digest, std::move(path)).first->second;
    }

private:
    const image::Layout& m_layout;
    std::optional<core::TempDir> m_temp;
    std::map<std::string, std::filesystem::path> m_checked; ///< digest -> verified file
};

/// Which repository of a registry is known to have which blob (a hint: a wrong one only makes
/// a mount fail and the blob be uploaded).
class MountHints {
public:
    MountHints(const std::filesystem::path& state_dir, const std::string& registry) {
        if (state_dir.empty()) {
            return;
        }
        std::string name = registry;
        std::replace_if(
            name.begin(), name.end(),
            [](char c) { return !(std::isalnum(static_cast<unsigned char>(c)) || c == '.'); }, '_');
        m_path = state_dir / "registry" / (name + ".json");
        std::error_code error;
        if (!std::filesystem::is_regular_file(m_path, error) ||
            std::filesystem::file_size(m_path, error) > (std::uint64_t{16} << 20U)) {
            return;
        }
        try {
            const auto json = nlohmann::json::parse(core::read_file(m_path));
            if (!json.is_object()) {
                return;
            }
            for (const auto& [digest, repository] : json.items()) {
                if (m_hints.size() < k_max_hints && digest.starts_with("sha256:") &&
                    core::is_sha256_hex(digest.substr(7)) && repository.is_string() &&
                    valid_repository(repository.get<std::string>())) {
                    m_hints[digest] = repository.get<std::string>();
                }
            }
        } catch (const nlohmann::json::exception&) {
            m_hints.clear(); // a damaged hint file is no hint
        }
    }

    [[nodiscard]] std::optional<std::string> find(const std::string& digest) const {
        const auto found = m_hints.find(digest);
        return found == m_hints.end() ? std::nullopt : std::optional(found->second);
    }

    void remember(const std::string& digest, const std::string& repository) {
        if (m_hints.size() < k_max_hints || m_hints.contains(digest)) {
            m_hints[digest] = repository;
        }
    }

    void save() const {
        if (m_path.empty()) {
            return;
        }
        std::filesystem::create_directories(m_path.parent_path());
        core::write_file_atomic(m_path, nlohmann::json(m_hints).dump(1));
    }

private:
    static bool valid_repository(const std::string& name) {
        return !name.empty() && name.size() <= 255 &&
               std::all_of(name.begin(), name.end(), [](char c) {
                   return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '/' ||
                          c == '.' || c == '_' || c == '-';
               });
    }

    std::filesystem::path m_path;
    std::map<std::string, std::string> m_hints;
};

/// The referrers fallback of distribution-spec 1.1: the tag `sha256-<hex>` of the subject names
/// an index listing the artifacts about it.
void add_to_fallback_tag(Repository& repository, const Document& referrer) {
    const auto tag = "sha256-" + referrer.subject.substr(7);
    nlohmann::json index{{"schemaVersion", 2},
                         {"mediaType", image::k_index_media_type},
                         {"manifests", nlohmann::json::array()}};
    if (const auto existing = repository.get_manifest(tag)) {
        try {
            auto json = nlohmann::json::parse(*existing);
            if (json.is_object() && json.contains("manifests") && json["manifests"].is_array()) {
                index["manifests"] = json["manifests"];
            }
        } catch (const nlohmann::json::exception&) {
            // Replaced by a well-formed one below.
        }
    }
    for (const auto& listed : index["manifests"]) {
        if (listed.is_object() && listed.value("digest", "") == referrer.blob.digest) {
            return;
        }
    }
    nlohmann::json entry{{"mediaType", referrer.blob.media_type},
                         {"digest", referrer.blob.digest},
                         {"size", referrer.blob.size}};
    if (!referrer.artifact_type.empty()) {
        entry["artifactType"] = referrer.artifact_type;
    }
    if (referrer.annotations.is_object() && !referrer.annotations.empty()) {
        entry["annotations"] = referrer.annotations;
    }
    index["manifests"].push_back(entry);
    (void)repository.put_manifest(tag, image::k_index_media_type, index.dump());
}

} // namespace

std::string registry_of(const image::Reference& reference) {
    return reference.domain.empty() ? "docker.io" : reference.domain;
}

std::string repository_of(const image::Reference& reference) {
    if (registry_of(reference) == "docker.io" && reference.path.find('/') == std::string::npos) {
        return "library/" + reference.path;
    }
    return reference.path;
}

namespace {

/// The variants of the layout's image: the images index.json lists after it whose ref name is
/// the image's, then `-VARIANT`; with that suffix.
std::vector<std::pair<const image::ListedDescriptor*, std::string>>
variants_of(const image::Layout& layout) {
    std::vector<std::pair<const image::ListedDescriptor*, std::string>> out;
    const auto& top = layout.top();
    const auto ref = top.annotations.find(image::k_ref_name_annotation);
    if (ref == top.annotations.end()) {
        return out;
    }
    for (const auto& entry : layout.index()) {
        const auto name = entry.annotations.find(image::k_ref_name_annotation);
        if (&entry == &top || name == entry.annotations.end() ||
            !name->second.starts_with(ref->second + "-")) {
            continue;
        }
        auto suffix = name->second.substr(ref->second.size());
        // A suffix becomes part of a tag: only what a tag may hold.
        if (suffix.size() > 64 || !std::all_of(suffix.begin() + 1, suffix.end(), [](char c) {
                return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
            })) {
            continue;
        }
        out.emplace_back(&entry, std::move(suffix));
    }
    return out;
}

} // namespace

PushResult push(const image::Layout& layout, const std::vector<image::Reference>& references,
                const PushOptions& options, core::Reporter& reporter) {
    auto result = push_image(layout, layout.top(), references, options, reporter);
    for (const auto& [entry, suffix] : variants_of(layout)) {
        std::vector<image::Reference> tagged;
        for (auto reference : references) {
            reference.tag += suffix;
            tagged.push_back(std::move(reference));
        }
        auto pushed = push_image(layout, *entry, tagged, options, reporter);
        for (auto& reference : pushed.references) {
            result.references.push_back(std::move(reference));
        }
    }
    return result;
}

PushResult push_image(const image::Layout& layout, const image::ListedDescriptor& image,
                      const std::vector<image::Reference>& references, const PushOptions& options,
                      core::Reporter& reporter) {
    const auto parts = Collector(layout, image).collect();
    const auto& top = parts.manifests.back();
    PushResult result;
    result.digest = top.blob.digest;
    result.media_type = top.blob.media_type;
    BlobFiles files(layout);

    for (const auto& reference : references) {
        if (reference.bare_tag()) {
            throw Error(
                fmt::format("`{}` names no repository: write REGISTRY/NAME:TAG", reference.tag),
                ExitCode::usage);
        }
        const auto registry = registry_of(reference);
        const auto name = repository_of(reference);
        PushedReference pushed;
        pushed.reference = fmt::format("{}/{}:{}", registry, name, reference.tag);
        reporter.info(fmt::format("pushing {} to {}", result.digest, pushed.reference));
        Repository repository(registry, name, options.registry);
        pushed.credentials = repository.credentials_used();
        if (options.skip_unchanged && repository.manifest_digest(reference.tag) == result.digest &&
            std::all_of(parts.referrers.begin(), parts.referrers.end(), [&](const auto& referrer) {
                return repository.manifest_digest(referrer.blob.digest) == referrer.blob.digest;
            })) {
            pushed.unchanged = true;
            pushed.tokens = repository.tokens_fetched();
            reporter.info(fmt::format("{} already names {}: nothing to push", pushed.reference,
                                      result.digest));
            result.references.push_back(std::move(pushed));
            continue;
        }
        MountHints hints(options.state_dir, registry);
        for (const auto& blob : parts.blobs) {
            if (!repository.has_blob(blob.digest)) {
                const auto from = hints.find(blob.digest);
                if (!(from && *from != name && repository.mount(blob.digest, *from))) {
                    reporter.debug(fmt::format("uploading {} ({} bytes)", blob.digest, blob.size));
                    repository.upload(files.get(blob), blob);
                }
            }
            hints.remember(blob.digest, name);
        }
        hints.save();
        // The image's manifests by digest, children first; then what refers to them; the tag
        // last.
        for (const auto& document : parts.manifests) {
            (void)repository.put_manifest(document.blob.digest, document.blob.media_type,
                                          document.bytes);
            ++pushed.manifests;
        }
        bool api = !parts.referrers.empty();
        for (const auto& referrer : parts.referrers) {
            const auto put = repository.put_manifest(referrer.blob.digest, referrer.blob.media_type,
                                                     referrer.bytes);
            if (!put.subject_recorded) {
                api = false;
                add_to_fallback_tag(repository, referrer);
            }
            ++pushed.referrers;
        }
        pushed.referrers_api = api;
        (void)repository.put_manifest(reference.tag, top.blob.media_type, top.bytes);
        ++pushed.manifests;
        pushed.stats = repository.stats();
        pushed.tokens = repository.tokens_fetched();
        result.references.push_back(std::move(pushed));
    }
    return result;
}

} // namespace distill::registry
