#include <algorithm>
#include <memory>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <distill/core/digest.hpp>
#include <distill/core/fs.hpp>
#include <distill/diff/diff.hpp>
#include <distill/distro/arch.hpp>
#include <distill/distro/distro.hpp>
#include <distill/fetch/fetch.hpp>
#include <distill/image/layout.hpp>
#include <distill/lock/lock.hpp>
#include <distill/package/record.hpp>
#include <distill/unpack/unpack.hpp>

namespace distill::diff {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

Side load_lock(const fs::path& path) {
    const auto lock = lock::read(path);
    Side side;
    side.label = path.string();
    side.distro = lock.distro;
    for (const auto& locked : lock.archs) {
        Arch arch;
        arch.arch = locked.arch;
        for (const auto& p : locked.packages) {
            arch.packages[p.name] =
                Package{p.name,           p.version, p.arch, p.source.empty() ? p.name : p.source,
                        p.installed_size, p.sha256,  p.url,  p.download_size};
            arch.size += p.installed_size;
        }
        side.archs.push_back(std::move(arch));
    }
    return side;
}

/// The name the distro gives the platform of an image config.
std::string arch_name(manifest::Distro distro, const json& config) {
    return distro::arch_for_platform(distro, config.at("architecture").get<std::string>(),
                                     config.value("variant", ""));
}

/// Reads a layer: every entry with the hash of its bytes, and the package database it holds.
/// Returns the distro whose package database that is, if any.
std::optional<manifest::Distro> read_layer(const image::Layout& layout,
                                           const image::Descriptor& layer, Arch& arch) {
    std::map<std::string, File> files;
    std::map<std::string, std::string> databases; // each distro's package database, if present
    for (const auto* distro : distro::all()) {
        databases.emplace(distro->package_database(), std::string());
    }
    const auto read_entry = [&](const image::LayerEntry& entry,
                                const image::EntryContent& content) {
        std::string path = entry.path;
        while (!path.empty() && path.back() == '/') {
            path.pop_back();
        }
        File file;
        file.mode = entry.mode;
        file.uid = entry.uid;
        file.gid = entry.gid;
        if (entry.type == image::LayerEntry::Type::hard_link) {
            file.type = 'h';
            file.content = files.contains(entry.link) ? files[entry.link].content : entry.link;
        } else if (entry.type == image::LayerEntry::Type::directory) {
            file.type = 'd';
        } else if (entry.type == image::LayerEntry::Type::symlink) {
            file.type = 'l';
            file.content = entry.link;
        } else {
            core::Hasher hasher;
            const auto database = databases.find(path);
            content([&](std::span<const std::byte> bytes) {
                hasher.update(bytes);
                file.size += bytes.size();
                if (database != databases.end()) {
                    database->second.append(reinterpret_cast<const char*>(bytes.data()),
                                            bytes.size());
                }
            });
            file.content = hasher.hex_digest();
        }
        files[path] = std::move(file);
    };
    layout.read_layer(layer, read_entry);
    std::optional<manifest::Distro> found;
    for (const auto* distro : distro::all()) {
        const auto database = std::string(distro->package_database());
        if (!files.contains(database)) {
            continue;
        }
        found = distro->id();
        for (auto& installed : distro->read_package_database(databases.at(database))) {
            arch.packages[installed.name] = Package{installed.name,
                                                    installed.version,
                                                    installed.arch,
                                                    installed.source,
                                                    installed.installed_size,
                                                    {},
                                                    {},
                                                    0};
        }
        break;
    }
    arch.files = std::move(files);
    return found;
}

Side load_layout(const fs::path& path) {
    Side side;
    side.label = path.string();
    side.is_image = true;
    const auto layout = image::Layout::open(path);
    side.digest = layout.top().blob.digest;
    for (const auto& image : layout.images()) {
        Arch arch;
        const auto& layer = image.layers.at(0);
        arch.size = layer.size;
        side.distro = read_layer(layout, layer, arch).value_or(side.distro);
        arch.arch = arch_name(side.distro, image.config_json);
        side.archs.push_back(std::move(arch));
    }
    return side;
}

/// Finds the changelogs of upgraded packages in their package files.
class Changelogs {
public:
    Changelogs(const distro::Distro& distro, const Arch& after, const core::Cache& cache,
               core::Reporter& reporter)
        : m_distro(distro)
        , m_after(after)
        , m_cache(cache)
        , m_reporter(reporter) {}

    void explain(const Package& package, PackageChange& change) {
        try {
            // The package first, then its source's other packages, which may hold its changelog.
            std::vector<std::string> candidates{package.name};
            for (const auto& [name, other] : m_after.packages) {
                if (other.source == package.source && name != package.name) {
                    candidates.push_back(name);
                }
            }
            const auto fixes = m_distro.changelog_fixes(
                package.name, candidates,
                [&](const std::string& name) { return unpacked(m_after.packages.at(name)); },
                change.old_version, change.new_version, change.changelog_note);
            if (!fixes) {
                return;
            }
            change.cves = fixes->cves;
            change.bugs = fixes->bugs;
            change.changelog_versions = fixes->versions;
        } catch (const std::exception& e) {
            change.changelog_note = describe(e);
        }
    }

private:
    /// The unpacked package file of a package of the new side, from the cache or fetched.
    std::optional<unpack::UnpackedPackage> unpacked(const Package& package) {
        // A lock names the file; an image only the version, which the build that fetched
        // the file noted in the cache.
        std::string sha256 = package.sha256;
        if (sha256.empty()) {
            sha256 = package::remembered_file(m_cache, package.name, package.version, package.arch)
                         .value_or("");
        }
        if (sha256.empty()) {
            return std::nullopt;
        }
        const std::string label = fmt::format("{} {}", package.name, package.version);
        if (!m_cache.has_blob(sha256)) {
            if (package.url.empty()) {
                return std::nullopt;
            }
            (void)fetch::fetch_all({fetch::Download{label, {package.url}, sha256, package.size}},
                                   m_cache, fetch::Options{}, m_reporter);
        }
        unpack::Limits limits;
        limits.max_bytes = 2 * package.installed_size + (64U << 20U);
        return unpack::unpack(unpack::Input{m_cache.blob_path(sha256), sha256, label, limits},
                              m_distro.reader(), m_cache);
    }

    const distro::Distro& m_distro;
    const Arch& m_after;
    const core::Cache& m_cache;
    core::Reporter& m_reporter;
};

std::string describe_file(const File& file) {
    return fmt::format("{} mode {:o} owner {}:{} size {} {}", file.type, file.mode, file.uid,
                       file.gid, file.size, file.content.substr(0, 16));
}

PackageChange change_of(PackageChange::Kind kind, const std::string& name,
                        const std::string& old_version, const std::string& new_version) {
    PackageChange change;
    change.kind = kind;
    change.name = name;
    change.old_version = old_version;
    change.new_version = new_version;
    return change;
}

/// The packages of one architecture that were added, removed, upgraded or downgraded (in the
/// distro's version order), by name; upgrades with what their changelog says.
std::vector<PackageChange> compare_packages(const distro::Distro& distro, const Arch& old_arch,
                                            const Arch& new_arch, Changelogs& changelogs) {
    std::vector<PackageChange> changes;
    for (const auto& [name, package] : new_arch.packages) {
        const auto old = old_arch.packages.find(name);
        if (old == old_arch.packages.end()) {
            changes.push_back(change_of(PackageChange::Kind::added, name, {}, package.version));
            continue;
        }
        const int order = distro.compare_versions(old->second.version, package.version);
        if (order == 0) {
            continue;
        }
        auto change =
            change_of(order < 0 ? PackageChange::Kind::upgraded : PackageChange::Kind::downgraded,
                      name, old->second.version, package.version);
        if (order < 0) {
            changelogs.explain(package, change);
        }
        changes.push_back(std::move(change));
    }
    for (const auto& [name, package] : old_arch.packages) {
        if (!new_arch.packages.contains(name)) {
            changes.push_back(change_of(PackageChange::Kind::removed, name, package.version, {}));
        }
    }
    std::sort(changes.begin(), changes.end(),
              [](const PackageChange& a, const PackageChange& b) { return a.name < b.name; });
    return changes;
}

/// The files added, removed and changed, when both sides are images.
void compare_files(const Arch& old_arch, const Arch& new_arch, ArchDiff& out) {
    if (!old_arch.files || !new_arch.files) {
        return;
    }
    out.has_files = true;
    for (const auto& [path, file] : *new_arch.files) {
        const auto old = old_arch.files->find(path);
        if (old == old_arch.files->end()) {
            out.files_added.push_back(path);
        } else if (!(old->second == file)) {
            out.files_changed.push_back(path);
        }
    }
    for (const auto& [path, file] : *old_arch.files) {
        if (!new_arch.files->contains(path)) {
            out.files_removed.push_back(path);
        }
    }
}

} // namespace

Side load(const fs::path& path) {
    std::error_code error;
    if (fs::is_directory(path, error)) {
        if (!fs::exists(path / "oci-layout", error)) {
            throw Error(fmt::format("{}: a directory, but not an OCI image layout", path.string()));
        }
        return load_layout(path);
    }
    if (!fs::is_regular_file(path, error)) {
        throw Error(fmt::format("{}: no such lockfile or image layout", path.string()));
    }
    return load_lock(path);
}

bool Diff::empty() const {
    return std::all_of(archs.begin(), archs.end(), [](const ArchDiff& arch) {
        return arch.packages.empty() && arch.files_added.empty() && arch.files_removed.empty() &&
               arch.files_changed.empty();
    });
}

Diff compare(const Side& before, const Side& after, const core::Cache& cache,
             core::Reporter& reporter) {
    Diff diff{before.label, after.label, before.digest, after.digest, {}};
    const auto& distro = distro::get(after.distro);
    std::vector<std::string> arch_names;
    for (const auto* side : {&before, &after}) {
        for (const auto& arch : side->archs) {
            if (std::find(arch_names.begin(), arch_names.end(), arch.arch) == arch_names.end()) {
                arch_names.push_back(arch.arch);
            }
        }
    }
    const Arch empty;
    const auto find = [&](const Side& side, const std::string& name) -> const Arch& {
        const auto found = std::find_if(side.archs.begin(), side.archs.end(),
                                        [&](const Arch& a) { return a.arch == name; });
        return found == side.archs.end() ? empty : *found;
    };
    for (const auto& name : arch_names) {
        const Arch& old_arch = find(before, name);
        const Arch& new_arch = find(after, name);
        ArchDiff out;
        out.arch = name;
        out.size_before = old_arch.size;
        out.size_after = new_arch.size;
        Changelogs changelogs(distro, new_arch, cache, reporter);
        out.packages = compare_packages(distro, old_arch, new_arch, changelogs);
        compare_files(old_arch, new_arch, out);
        diff.archs.push_back(std::move(out));
    }
    return diff;
}

std::string first_difference(const fs::path& expected, const fs::path& actual) {
    const auto a = load(expected);
    const auto b = load(actual);
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
    const auto old_images = image::Layout::open(expected).images();
    const auto new_images = image::Layout::open(actual).images();
    for (std::size_t i = 0; i < old_images.size() && i < new_images.size(); ++i) {
        const auto& old_config = old_images[i].config_json;
        const auto& new_config = new_images[i].config_json;
        if (old_config != new_config) {
            const auto patch = json::diff(old_config, new_config);
            return fmt::format("the same files, but the image config differs: {}", patch.dump());
        }
        if (old_images[i].manifest.at("layers") != new_images[i].manifest.at("layers")) {
            return "the same files and config, but the layer's bytes differ (entry order, "
                   "headers or compression)";
        }
    }
    return "the same files, config and layers; the manifests or the index differ";
}

} // namespace distill::diff
