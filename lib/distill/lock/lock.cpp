#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <distill/core/digest.hpp>
#include <distill/core/fs.hpp>
#include <distill/core/text.hpp>
#include <distill/distro/distro.hpp>
#include <distill/lock/lock.hpp>

namespace distill::lock {
namespace {

using nlohmann::json;

// The file is written with keys in a fixed, readable order (ordered_json keeps the order of
// insertion): what a reader looks for first comes first.
using ordered = nlohmann::ordered_json;

ordered package_json(const resolve::PlannedPackage& p) {
    ordered j{{"name", p.name},          {"version", p.version},
              {"arch", p.arch},          {"suite", p.suite},
              {"source", p.source},      {"url", p.url},
              {"size", p.download_size}, {"installed_size", p.installed_size},
              {"sha256", p.sha256}};
    if (!p.checksum.empty()) {
        j["checksum"] = p.checksum;
    }
    if (!p.variant.empty()) {
        j["variant"] = p.variant;
    }
    return j;
}

/// A distro's own checksum as an index writes it (Alpine: "Q1" and base64): short, and of
/// letters, digits and base64's signs only.
bool is_checksum(std::string_view text) {
    return !text.empty() && text.size() <= 128 && std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '+' || c == '/' || c == '=';
    });
}

resolve::PlannedPackage package_from(const json& j, const distro::Distro* distro) {
    resolve::PlannedPackage p;
    p.name = j.at("name").get<std::string>();
    p.version = j.at("version").get<std::string>();
    p.arch = j.at("arch").get<std::string>();
    p.suite = j.at("suite").get<std::string>();
    p.source = j.value("source", "");
    p.url = j.at("url").get<std::string>();
    p.download_size = j.at("size").get<std::uint64_t>();
    p.installed_size = j.at("installed_size").get<std::uint64_t>();
    p.sha256 = j.at("sha256").get<std::string>();
    p.checksum = j.value("checksum", "");
    p.variant = j.value("variant", "");
    if (!p.variant.empty() && p.variant != manifest::k_variant_debug) {
        throw Error(fmt::format("package {}: `{}` is not a variant that adds packages",
                                core::printable(p.name), core::printable(p.variant)));
    }
    // A lock is outside data too (a pull request may touch only it): its names and versions
    // become cache file names and package database paths, so they pass the distro's grammar.
    if (distro != nullptr) {
        if (const auto problem = distro->identity_problem(p.name, p.version, p.arch)) {
            throw Error(*problem);
        }
    }
    // A package an index names by its own checksum (Alpine's) may be locked before it was
    // ever downloaded: its SHA-256 is then unknown, and the checksum is what holds it.
    const bool by_checksum = p.sha256.empty() && !p.checksum.empty();
    if (!by_checksum && !core::is_sha256_hex(p.sha256)) {
        throw Error(fmt::format("package {}: `{}` is not a SHA-256", core::printable(p.name),
                                core::printable(p.sha256)));
    }
    if (j.contains("checksum") && !is_checksum(p.checksum)) {
        throw Error(fmt::format("package {}: `{}` is not a package checksum",
                                core::printable(p.name), core::printable(p.checksum)));
    }
    p.why = {p.name};
    return p;
}

bool by_name(const resolve::PlannedPackage& a, const resolve::PlannedPackage& b) {
    return std::tie(a.name, a.arch, a.version) < std::tie(b.name, b.arch, b.version);
}

} // namespace

std::vector<std::string> Lockfile::arch_names() const {
    std::vector<std::string> names;
    for (const auto& arch : archs) {
        names.push_back(arch.arch);
    }
    return names;
}

const LockedArch* Lockfile::find(const std::string& arch) const {
    const auto found = std::find_if(archs.begin(), archs.end(),
                                    [&](const LockedArch& a) { return a.arch == arch; });
    return found == archs.end() ? nullptr : &*found;
}

std::filesystem::path path_for(const std::filesystem::path& manifest) {
    return manifest.parent_path() / (manifest.stem().string() + ".lock");
}

std::string manifest_digest(const manifest::Manifest& manifest) {
    core::Hasher hasher;
    for (const auto& file : manifest.included) {
        hasher.update(fmt::format("{}\n{}\n", file.filename().string(),
                                  core::sha256_hex(core::read_file(file))));
    }
    return "sha256:" + hasher.hex_digest();
}

Lockfile make(const manifest::Manifest& manifest, const std::vector<resolve::Plan>& plans,
              const std::vector<sources::Provenance>& provenance) {
    Lockfile lock;
    lock.name = manifest.name;
    lock.distro = manifest.distro;
    lock.manifest_digest = manifest_digest(manifest);
    for (const auto& file : manifest.included) {
        lock.manifests.push_back(file.filename().string());
    }
    std::set<std::string> seen;
    for (const auto& source : provenance) {
        if (seen.insert(source.release_url).second) {
            lock.sources.push_back(LockedSource{source.release_url, source.release_sha256,
                                                source.signers, source.keyring.string()});
        }
    }
    std::sort(lock.sources.begin(), lock.sources.end(),
              [](const LockedSource& a, const LockedSource& b) { return a.release < b.release; });
    for (const auto& plan : plans) {
        LockedArch arch{plan.arch, plan.packages, plan.excluded};
        std::sort(arch.packages.begin(), arch.packages.end(), by_name);
        for (auto& package : arch.packages) {
            package.why.clear();
        }
        lock.archs.push_back(std::move(arch));
    }
    return lock;
}

std::string to_text(const Lockfile& lock) {
    ordered sources = ordered::array();
    for (const auto& source : lock.sources) {
        sources.push_back({{"release", source.release},
                           {"sha256", source.sha256},
                           {"signers", source.signers},
                           {"keyring", source.keyring}});
    }
    ordered archs = ordered::array();
    for (const auto& arch : lock.archs) {
        ordered packages = ordered::array();
        for (const auto& package : arch.packages) {
            packages.push_back(package_json(package));
        }
        ordered excluded = ordered::array();
        for (const auto& e : arch.excluded) {
            excluded.push_back(
                {{"name", e.name}, {"reason", e.reason}, {"wanted_by", e.wanted_by}});
        }
        archs.push_back({{"arch", arch.arch}, {"packages", packages}, {"excluded", excluded}});
    }
    ordered document{{"lockfile_version", Lockfile::k_version}, {"name", lock.name}};
    if (lock.distro != Lockfile{}.distro) {
        document["distro"] = manifest::to_string(lock.distro);
    }
    document["manifest"] = {{"digest", lock.manifest_digest}, {"files", lock.manifests}};
    document["sources"] = sources;
    document["archs"] = archs;
    return document.dump(2) + "\n";
}

void write(const std::filesystem::path& path, const Lockfile& lock) {
    core::write_file_atomic(path, to_text(lock));
}

Lockfile read(const std::filesystem::path& path) {
    try {
        const auto document = json::parse(core::read_file(path));
        const int version = document.at("lockfile_version").get<int>();
        if (version != Lockfile::k_version) {
            throw Error(fmt::format("lockfile version {} is not supported (this distill writes "
                                    "version {}); run `distill lock --update`",
                                    version, Lockfile::k_version));
        }
        Lockfile lock;
        lock.name = document.at("name").get<std::string>();
        if (const auto distro = document.find("distro"); distro != document.end()) {
            const auto name = distro->get<std::string>();
            lock.distro = manifest::distro_named(name).value_or(lock.distro);
            if (manifest::to_string(lock.distro) != name) {
                throw Error(fmt::format("unknown distro `{}`", name));
            }
        }
        lock.manifest_digest = document.at("manifest").at("digest").get<std::string>();
        lock.manifests = document.at("manifest").at("files").get<std::vector<std::string>>();
        for (const auto& source : document.at("sources")) {
            lock.sources.push_back(LockedSource{
                source.at("release").get<std::string>(), source.at("sha256").get<std::string>(),
                source.at("signers").get<std::vector<std::string>>(),
                source.at("keyring").get<std::string>()});
        }
        const auto* distro = distro::find(lock.distro);
        for (const auto& arch : document.at("archs")) {
            LockedArch locked;
            locked.arch = arch.at("arch").get<std::string>();
            for (const auto& package : arch.at("packages")) {
                with_context(fmt::format("architecture {}, package {}",
                                         core::printable(locked.arch), locked.packages.size() + 1),
                             [&] { locked.packages.push_back(package_from(package, distro)); });
            }
            for (const auto& e : arch.at("excluded")) {
                locked.excluded.push_back(resolve::ExcludedPackage{
                    e.at("name").get<std::string>(), e.at("reason").get<std::string>(),
                    e.at("wanted_by").get<std::vector<std::string>>()});
            }
            lock.archs.push_back(std::move(locked));
        }
        return lock;
    } catch (const json::exception&) {
        // The JSON library's own words go on as the nested cause.
        std::throw_with_nested(Error(fmt::format("{}: not a distill lockfile", path.string())));
    } catch (const Error&) {
        std::throw_with_nested(Error(path.string()));
    }
}

resolve::Plan to_plan(const LockedArch& arch) {
    resolve::Plan plan;
    plan.arch = arch.arch;
    plan.packages = arch.packages;
    plan.excluded = arch.excluded;
    return plan;
}

} // namespace distill::lock
