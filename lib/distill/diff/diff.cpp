#include <algorithm>
#include <memory>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <distill/core/digest.hpp>
#include <distill/core/fs.hpp>
#include <distill/core/gzip.hpp>
#include <distill/deb/changelog.hpp>
#include <distill/deb/control.hpp>
#include <distill/deb/version.hpp>
#include <distill/diff/diff.hpp>
#include <distill/fetch/fetch.hpp>
#include <distill/image/layout.hpp>
#include <distill/lock/lock.hpp>
#include <distill/unpack/deb.hpp>
#include <distill/unpack/tree.hpp>

namespace distill::diff {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string strip_source_version(std::string source) {
    // "openssl (3.0.15-1)": a binNMU names the source version too.
    return source.substr(0, source.find(' '));
}

Side load_lock(const fs::path& path) {
    const auto lock = lock::read(path);
    Side side;
    side.label = path.string();
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

/// The Debian name of an OCI platform.
std::string debian_arch(const json& config) {
    const std::string arch = config.at("architecture").get<std::string>();
    const std::string variant = config.value("variant", "");
    if (arch == "arm") {
        return variant == "v5" ? "armel" : "armhf";
    }
    if (arch == "386") {
        return "i386";
    }
    if (arch == "ppc64le") {
        return "ppc64el";
    }
    if (arch == "mips64le") {
        return "mips64el";
    }
    return arch;
}

/// Reads a layer: every entry with the hash of its bytes, and dpkg's status file.
void read_layer(const image::Layout& layout, const image::Descriptor& layer, Arch& arch) {
    std::map<std::string, File> files;
    std::string status;
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
            const bool is_status = path == "var/lib/dpkg/status";
            content([&](std::span<const std::byte> bytes) {
                hasher.update(bytes);
                file.size += bytes.size();
                if (is_status) {
                    status.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
                }
            });
            file.content = hasher.hex_digest();
        }
        files[path] = std::move(file);
    };
    layout.read_layer(layer, read_entry);
    for (const auto& paragraph : deb::parse_paragraphs(status, "var/lib/dpkg/status")) {
        Package package;
        package.name = paragraph.value_or("Package", "");
        package.version = paragraph.value_or("Version", "");
        package.arch = paragraph.value_or("Architecture", "");
        package.source = strip_source_version(paragraph.value_or("Source", package.name));
        package.installed_size = std::stoull(paragraph.value_or("Installed-Size", "0")) * 1024U;
        arch.packages[package.name] = std::move(package);
    }
    arch.files = std::move(files);
}

Side load_layout(const fs::path& path) {
    Side side;
    side.label = path.string();
    side.is_image = true;
    const auto layout = image::Layout::open(path);
    side.digest = layout.top().blob.digest;
    for (const auto& image : layout.images()) {
        Arch arch;
        arch.arch = debian_arch(image.config_json);
        const auto& layer = image.layers.at(0);
        arch.size = layer.size;
        read_layer(layout, layer, arch);
        side.archs.push_back(std::move(arch));
    }
    return side;
}

std::string index_key(const Package& package) {
    return fmt::format("{}_{}_{}", package.name, package.version, package.arch);
}

/// Finds the changelogs of upgraded packages in their .debs.
class Changelogs {
public:
    Changelogs(const Arch& after, const core::Cache& cache, core::Reporter& reporter)
        : m_after(after)
        , m_cache(cache)
        , m_reporter(reporter) {}

    void explain(const Package& package, PackageChange& change) {
        try {
            const auto text = changelog_of(package);
            if (!text) {
                change.changelog_note = "no changelog.Debian.gz in the package or its source's "
                                        "other packages";
                return;
            }
            const auto fixes = deb::fixes_between(deb::parse_changelog(*text), change.old_version,
                                                  change.new_version);
            change.cves = fixes.cves;
            change.bugs = fixes.bugs;
            change.changelog_versions = fixes.versions;
        } catch (const std::exception& e) {
            change.changelog_note = describe(e);
        }
    }

private:
    /// The unpacked .deb of a package of the new side, from the cache or fetched.
    std::optional<unpack::UnpackedPackage> unpacked(const Package& package) {
        std::string sha256 = package.sha256;
        const auto remembered = m_cache.derived_path("debs", index_key(package));
        std::error_code error;
        if (sha256.empty() && fs::exists(remembered, error)) {
            sha256 = core::read_file(remembered);
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
        return unpack::unpack_deb(
            unpack::DebInput{m_cache.blob_path(sha256), sha256, label, limits}, m_cache);
    }

    /// The changelog.Debian.gz of the package, expanded: in its own doc directory, or where
    /// that directory links to (another package of the same source, as Debian often does).
    std::optional<std::string> changelog_of(const Package& package) {
        std::vector<const Package*> candidates{&package};
        for (const auto& [name, other] : m_after.packages) {
            if (other.source == package.source && name != package.name) {
                candidates.push_back(&other);
            }
        }
        std::set<std::string> doc_dirs{package.name};
        for (const auto* candidate : candidates) {
            const auto content = unpacked(*candidate);
            if (!content) {
                continue;
            }
            for (const auto& entry : content->entries) {
                const auto path = unpack::Tree::normalise(entry.path, candidate->name);
                if (entry.type == unpack::EntryType::symlink &&
                    path == "usr/share/doc/" + package.name) {
                    doc_dirs.insert(fs::path(entry.link).filename().string());
                }
            }
            // Non-native packages keep Debian's changelog in changelog.Debian.gz (changelog.gz
            // is upstream's); native ones (ca-certificates, tzdata's kind) in changelog.gz.
            for (const char* name : {"changelog.Debian.gz", "changelog.gz"}) {
                for (const auto& entry : content->entries) {
                    const auto path = unpack::Tree::normalise(entry.path, candidate->name);
                    for (const auto& dir : doc_dirs) {
                        if (entry.type == unpack::EntryType::file &&
                            path == "usr/share/doc/" + dir + "/" + name) {
                            return core::gunzip(
                                core::read_file_range(content->pack, entry.offset, entry.size),
                                path);
                        }
                    }
                }
            }
        }
        return std::nullopt;
    }

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
        Changelogs changelogs(new_arch, cache, reporter);
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
            const int order = deb::compare_versions(old->second.version, package.version);
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

void remember_deb(const core::Cache& cache, const Package& package) {
    const auto path = cache.derived_path("debs", index_key(package));
    std::error_code error;
    if (!fs::exists(path, error)) {
        core::write_file_atomic(path, package.sha256);
    }
}

} // namespace distill::diff
