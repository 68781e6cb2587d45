#include <algorithm>
#include <memory>
#include <set>

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <distill/core/archive.hpp>
#include <distill/core/digest.hpp>
#include <distill/core/fs.hpp>
#include <distill/diff/diff.hpp>
#include <distill/distro/arch.hpp>
#include <distill/distro/distro.hpp>
#include <distill/fetch/fetch.hpp>
#include <distill/image/oci.hpp>
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
std::optional<manifest::Distro> read_layer(const fs::path& blob, Arch& arch) {
    const auto reader = core::Archive::reader();
    archive_read_support_filter_all(reader.get());
    archive_read_support_format_tar(reader.get());
    if (archive_read_open_filename(reader.get(), blob.c_str(), 1U << 16U) != ARCHIVE_OK) {
        throw Error(fmt::format("{}: {}", blob.string(), reader.error()));
    }
    std::map<std::string, File> files;
    std::map<std::string, std::string> databases; // each distro's package database, if present
    for (const auto* distro : distro::all()) {
        databases.emplace(distro->package_database(), std::string());
    }
    std::vector<char> buffer(1U << 16U);
    archive_entry* entry = nullptr;
    int result = ARCHIVE_OK;
    while ((result = archive_read_next_header(reader.get(), &entry)) == ARCHIVE_OK) {
        std::string path = archive_entry_pathname(entry);
        while (!path.empty() && path.back() == '/') {
            path.pop_back();
        }
        File file;
        file.mode = archive_entry_perm(entry);
        file.uid = static_cast<std::uint32_t>(archive_entry_uid(entry));
        file.gid = static_cast<std::uint32_t>(archive_entry_gid(entry));
        if (const char* hardlink = archive_entry_hardlink(entry)) {
            file.type = 'h';
            file.content = files.contains(hardlink) ? files[hardlink].content : hardlink;
        } else if (archive_entry_filetype(entry) == AE_IFDIR) {
            file.type = 'd';
        } else if (archive_entry_filetype(entry) == AE_IFLNK) {
            file.type = 'l';
            file.content = archive_entry_symlink(entry);
        } else {
            core::Hasher hasher;
            const auto database = databases.find(path);
            for (la_ssize_t got;
                 (got = archive_read_data(reader.get(), buffer.data(), buffer.size())) > 0;) {
                hasher.update(std::string_view(buffer.data(), static_cast<std::size_t>(got)));
                file.size += static_cast<std::uint64_t>(got);
                if (database != databases.end()) {
                    database->second.append(buffer.data(), static_cast<std::size_t>(got));
                }
            }
            file.content = hasher.hex_digest();
        }
        files[path] = std::move(file);
    }
    if (result != ARCHIVE_EOF) {
        throw Error(fmt::format("{}: {}", blob.string(), reader.error()));
    }
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
    const auto blob = [&](const std::string& digest) {
        return image::layout_blob_path(path, digest);
    };
    const auto index = json::parse(core::read_file(path / "index.json"));
    const auto& top = index.at("manifests").at(0);
    side.digest = top.at("digest").get<std::string>();
    std::vector<std::string> manifests;
    if (top.at("mediaType").get<std::string>() == image::k_index_media_type) {
        for (const auto& entry : json::parse(core::read_file(blob(side.digest))).at("manifests")) {
            manifests.push_back(entry.at("digest").get<std::string>());
        }
    } else {
        manifests.push_back(side.digest);
    }
    for (const auto& digest : manifests) {
        const auto manifest = json::parse(core::read_file(blob(digest)));
        const auto config = json::parse(
            core::read_file(blob(manifest.at("config").at("digest").get<std::string>())));
        Arch arch;
        const auto& layer = manifest.at("layers").at(0);
        arch.size = layer.at("size").get<std::uint64_t>();
        side.distro =
            read_layer(blob(layer.at("digest").get<std::string>()), arch).value_or(side.distro);
        arch.arch = arch_name(side.distro, config);
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
    for (const auto& name : arch_names) {
        const auto find = [&](const Side& side) -> const Arch& {
            const auto found = std::find_if(side.archs.begin(), side.archs.end(),
                                            [&](const Arch& a) { return a.arch == name; });
            return found == side.archs.end() ? empty : *found;
        };
        const Arch& old_arch = find(before);
        const Arch& new_arch = find(after);
        ArchDiff out;
        out.arch = name;
        out.size_before = old_arch.size;
        out.size_after = new_arch.size;
        Changelogs changelogs(distro, new_arch, cache, reporter);
        for (const auto& [package_name, package] : new_arch.packages) {
            const auto old = old_arch.packages.find(package_name);
            if (old == old_arch.packages.end()) {
                out.packages.push_back({PackageChange::Kind::added,
                                        package_name,
                                        {},
                                        package.version,
                                        {},
                                        {},
                                        {},
                                        {}});
                continue;
            }
            const int order = distro.compare_versions(old->second.version, package.version);
            if (order == 0) {
                continue;
            }
            PackageChange change{order < 0 ? PackageChange::Kind::upgraded
                                           : PackageChange::Kind::downgraded,
                                 package_name,
                                 old->second.version,
                                 package.version,
                                 {},
                                 {},
                                 {},
                                 {}};
            if (order < 0) {
                changelogs.explain(package, change);
            }
            out.packages.push_back(std::move(change));
        }
        for (const auto& [package_name, package] : old_arch.packages) {
            if (!new_arch.packages.contains(package_name)) {
                out.packages.push_back({PackageChange::Kind::removed,
                                        package_name,
                                        package.version,
                                        {},
                                        {},
                                        {},
                                        {},
                                        {}});
            }
        }
        std::sort(out.packages.begin(), out.packages.end(),
                  [](const PackageChange& a, const PackageChange& b) { return a.name < b.name; });
        if (old_arch.files && new_arch.files) {
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
        diff.archs.push_back(std::move(out));
    }
    return diff;
}

} // namespace distill::diff
