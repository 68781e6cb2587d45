#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <distill/core/fs.hpp>
#include <distill/diff/diff.hpp>
#include <distill/image/output.hpp>
#include <distill/pipeline/pipeline.hpp>

namespace distill::pipeline {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json blob_json(const fs::path& layout, const std::string& digest) {
    return json::parse(
        core::read_file(layout / "blobs" / "sha256" / digest.substr(digest.find(':') + 1)));
}

/// The manifests of a layout (one, or those its image index lists).
std::vector<json> manifests_of(const fs::path& layout) {
    const auto top = json::parse(core::read_file(layout / "index.json")).at("manifests").at(0);
    const auto document = blob_json(layout, top.at("digest").get<std::string>());
    if (document.contains("manifests")) {
        std::vector<json> out;
        for (const auto& entry : document.at("manifests")) {
            out.push_back(blob_json(layout, entry.at("digest").get<std::string>()));
        }
        return out;
    }
    return {document};
}

std::string describe_file(const diff::File& file) {
    return fmt::format("{} mode {:o} owner {}:{} size {} {}", file.type, file.mode, file.uid,
                       file.gid, file.size, file.content.substr(0, 16));
}

/// The first difference between two images, in the user's terms.
std::string first_difference(const fs::path& expected, const fs::path& actual) {
    const auto a = diff::load(expected);
    const auto b = diff::load(actual);
    if (a.archs.size() != b.archs.size()) {
        return fmt::format("{} architectures were built, {} are in the layout", b.archs.size(),
                           a.archs.size());
    }
    for (std::size_t i = 0; i < a.archs.size(); ++i) {
        const auto& old_files = *a.archs[i].files;
        const auto& new_files = *b.archs[i].files;
        auto o = old_files.begin();
        auto n = new_files.begin();
        while (o != old_files.end() || n != new_files.end()) {
            if (n == new_files.end() || (o != old_files.end() && o->first < n->first)) {
                return fmt::format("/{}: in the layout, not in the rebuild", o->first);
            }
            if (o == old_files.end() || n->first < o->first) {
                return fmt::format("/{}: in the rebuild, not in the layout", n->first);
            }
            if (!(o->second == n->second)) {
                return fmt::format("/{}: layout has {}, rebuild has {}", o->first,
                                   describe_file(o->second), describe_file(n->second));
            }
            ++o;
            ++n;
        }
    }
    // Same files: the difference is in the tar's own bytes or in the image config.
    const auto old_manifests = manifests_of(expected);
    const auto new_manifests = manifests_of(actual);
    for (std::size_t i = 0; i < old_manifests.size() && i < new_manifests.size(); ++i) {
        const auto old_config = blob_json(expected, old_manifests[i].at("config").at("digest"));
        const auto new_config = blob_json(actual, new_manifests[i].at("config").at("digest"));
        if (old_config != new_config) {
            const auto patch = json::diff(old_config, new_config);
            return fmt::format("the same files, but the image config differs: {}", patch.dump());
        }
        if (old_manifests[i].at("layers") != new_manifests[i].at("layers")) {
            return "the same files and config, but the layer's bytes differ (entry order, "
                   "headers or compression)";
        }
    }
    return "the same files, config and layers; the manifests or the index differ";
}

} // namespace

VerifyResult verify(Session& session, const fs::path& layout, const manifest::Loaded& loaded,
                    const BuildSettings& settings) {
    VerifyResult result;
    const auto expected = image::existing_digest(layout);
    if (!expected || !fs::is_directory(layout)) {
        throw Error(fmt::format("{}: not an OCI image layout", layout.string()));
    }
    result.expected = *expected;
    BuildSettings rebuild = settings;
    rebuild.lock.mode = LockMode::frozen; // exactly what the lock says, or nothing
    rebuild.format = OutputFormat::layout;
    // The layer is compressed as the original was.
    const auto media_type =
        manifests_of(layout).front().at("layers").at(0).at("mediaType").get<std::string>();
    rebuild.compression =
        media_type.ends_with("+zstd") ? image::Compression::zstd : image::Compression::gzip;
    core::remove_stale(fs::absolute(layout).parent_path(), ".distill-verify-");
    const core::TempDir scratch(".distill-verify-", fs::absolute(layout).parent_path());
    rebuild.output = scratch.path() / "rebuild";
    const auto built = build(session, loaded, rebuild);
    result.actual = built.digest;
    if (!result.reproduced()) {
        result.difference = first_difference(layout, rebuild.output);
    }
    return result;
}

} // namespace distill::pipeline
