#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <distill/core/digest.hpp>
#include <distill/core/fs.hpp>
#include <distill/distro/arch.hpp>
#include <distill/image/oci.hpp>

namespace distill::image {
namespace {

using nlohmann::json;

json descriptor_json(const Descriptor& descriptor) {
    return {{"mediaType", descriptor.media_type},
            {"digest", descriptor.digest},
            {"size", descriptor.size}};
}

json platform_json(const Platform& platform) {
    json out{{"architecture", platform.architecture}, {"os", platform.os}};
    if (!platform.variant.empty()) {
        out["variant"] = platform.variant;
    }
    return out;
}

std::string hex_of(const std::string& digest) {
    return digest.substr(digest.find(':') + 1);
}

} // namespace

Platform platform_for(manifest::Distro distro, const std::string& arch) {
    const auto* found = distro::find_arch(distro, arch);
    if (found == nullptr) {
        throw Error(fmt::format("no OCI platform is known for {} architecture `{}`",
                                manifest::to_string(distro), arch));
    }
    return Platform{"linux", std::string(found->oci), std::string(found->variant)};
}

std::string rfc3339(std::int64_t epoch) {
    const auto seconds = static_cast<std::time_t>(epoch);
    std::tm utc{};
    if (::gmtime_r(&seconds, &utc) == nullptr) {
        throw Error(fmt::format("epoch {} is out of range", epoch));
    }
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", utc.tm_year + 1900, utc.tm_mon + 1,
                       utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
}

std::string config_json(const ConfigInput& input) {
    const auto& config = input.config;
    json runtime{{"User", input.user}, {"WorkingDir", config.workdir}};
    json env = json::array();
    for (const auto& [name, value] : config.env) {
        env.push_back(fmt::format("{}={}", name, value));
    }
    runtime["Env"] = std::move(env);
    if (!config.entrypoint.empty()) {
        runtime["Entrypoint"] = config.entrypoint;
    }
    if (!config.cmd.empty()) {
        runtime["Cmd"] = config.cmd;
    }
    if (!config.labels.empty()) {
        runtime["Labels"] = config.labels;
    }
    if (!config.ports.empty()) {
        json ports = json::object();
        for (const auto& port : config.ports) {
            ports[port.find('/') == std::string::npos ? port + "/tcp" : port] = json::object();
        }
        runtime["ExposedPorts"] = std::move(ports);
    }
    if (!config.stop_signal.empty()) {
        runtime["StopSignal"] = config.stop_signal;
    }
    const std::string created = rfc3339(input.epoch);
    json out{{"architecture", input.platform.architecture},
             {"os", input.platform.os},
             {"created", created},
             {"config", std::move(runtime)},
             {"rootfs", {{"type", "layers"}, {"diff_ids", {input.diff_id}}}},
             {"history",
              {{{"created", created},
                {"created_by", input.history},
                {"comment", "distroless image built by distill"}}}}};
    for (const auto& [diff_id, created_by] : input.added_layers) {
        out["rootfs"]["diff_ids"].push_back(diff_id);
        out["history"].push_back({{"created", created}, {"created_by", created_by}});
    }
    if (!input.platform.variant.empty()) {
        out["variant"] = input.platform.variant;
    }
    return out.dump();
}

std::string manifest_json(const Descriptor& config, const Descriptor& layer,
                          const std::map<std::string, std::string>& annotations,
                          const std::vector<Descriptor>& added_layers) {
    json layers = json::array({descriptor_json(layer)});
    for (const auto& added : added_layers) {
        layers.push_back(descriptor_json(added));
    }
    json out{{"schemaVersion", 2},
             {"mediaType", k_manifest_media_type},
             {"config", descriptor_json(config)},
             {"layers", std::move(layers)}};
    if (!annotations.empty()) {
        out["annotations"] = annotations;
    }
    return out.dump();
}

std::string index_json(const std::vector<IndexEntry>& manifests) {
    json list = json::array();
    for (const auto& entry : manifests) {
        auto item = descriptor_json(entry.manifest);
        item["platform"] = platform_json(entry.platform);
        list.push_back(std::move(item));
    }
    return json{{"schemaVersion", 2}, {"mediaType", k_index_media_type}, {"manifests", list}}
        .dump();
}

Descriptor describe_blob(const std::string& media_type, const std::string& content) {
    return Descriptor{media_type, "sha256:" + core::sha256_hex(content), content.size()};
}

LayoutWriter::LayoutWriter(std::filesystem::path root)
    : m_root(std::move(root)) {
    std::filesystem::create_directories(blobs_dir());
}

std::filesystem::path LayoutWriter::blobs_dir() const {
    return m_root / "blobs" / "sha256";
}

Descriptor LayoutWriter::put(const std::string& media_type, const std::string& content) {
    auto descriptor = describe_blob(media_type, content);
    core::write_file_atomic(blobs_dir() / hex_of(descriptor.digest), content);
    return descriptor;
}

void LayoutWriter::finish(const Descriptor& top,
                          const std::map<std::string, std::string>& annotations,
                          const std::vector<Platform>& platforms,
                          const std::vector<Artifact>& artifacts,
                          const std::vector<Sibling>& siblings) {
    core::write_file_atomic(m_root / "oci-layout", json{{"imageLayoutVersion", "1.0.0"}}.dump());
    auto entry = descriptor_json(top);
    if (!annotations.empty()) {
        entry["annotations"] = annotations;
    }
    if (platforms.size() == 1) {
        entry["platform"] = platform_json(platforms.front());
    }
    json manifests = json::array({entry});
    for (const auto& sibling : siblings) {
        auto listed = descriptor_json(sibling.top);
        if (!sibling.annotations.empty()) {
            listed["annotations"] = sibling.annotations;
        }
        if (platforms.size() == 1) {
            listed["platform"] = platform_json(platforms.front());
        }
        manifests.push_back(std::move(listed));
    }
    for (const auto& artifact : artifacts) {
        auto listed = descriptor_json(artifact.manifest);
        listed["artifactType"] = artifact.artifact_type;
        manifests.push_back(std::move(listed));
    }
    core::write_file_atomic(
        m_root / "index.json",
        json{{"schemaVersion", 2}, {"mediaType", k_index_media_type}, {"manifests", manifests}}
            .dump());
}

} // namespace distill::image
