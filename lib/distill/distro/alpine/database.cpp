#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <distill/core/digest.hpp>
#include <distill/core/fs.hpp>
#include <distill/distro/alpine/apk.hpp>
#include <distill/distro/alpine/apkindex.hpp>
#include <distill/distro/alpine/database.hpp>
#include <distill/distro/alpine/signature.hpp>
#include <distill/unpack/tree.hpp>

namespace distill::distro::alpine {
namespace {

using unpack::EntryType;

constexpr std::uint64_t k_chunk = std::uint64_t{4} << 20U;

/// apk's checksum of a file's content: "Q1" and the base64 of its SHA-1.
std::string content_checksum(const unpack::Tree& tree, const unpack::Entry& entry) {
    core::Hasher sha1(core::HashAlgorithm::sha1);
    if (const auto* pack = std::get_if<unpack::PackContent>(&entry.content)) {
        const auto& file = tree.packs().at(pack->pack);
        for (std::uint64_t done = 0; done < entry.size;) {
            const auto count = std::min(k_chunk, entry.size - done);
            sha1.update(core::read_file_range(file, pack->offset + done, count));
            done += count;
        }
    } else if (const auto* generated = std::get_if<unpack::GeneratedContent>(&entry.content)) {
        sha1.update(**generated);
    } else {
        return {};
    }
    return apk_checksum(sha1.raw_digest());
}

/// apk writes an owner and mode only where they differ from its defaults.
std::string owner_line(char key, const unpack::Entry& entry, std::uint32_t default_mode) {
    if (entry.uid == 0 && entry.gid == 0 && entry.mode == default_mode) {
        return {};
    }
    return fmt::format("{}:{}:{}:{:o}\n", key, entry.uid, entry.gid, entry.mode);
}

void field(std::string& out, char key, std::string_view value) {
    if (!value.empty()) {
        out += fmt::format("{}:{}\n", key, value);
    }
}

} // namespace

std::size_t write_installed_database(unpack::Tree& tree) {
    std::vector<std::pair<std::string, std::string>> records; // name, record
    std::vector<std::string> world;
    for (const auto& record : tree.packages()) {
        if (record.why.size() == 1) {
            world.push_back(record.name); // asked for by the manifest, not pulled in
        }
        const auto info = parse_pkginfo(record.contents->control, package::label(record));
        std::string out;
        field(out, 'C', record.checksum);
        field(out, 'P', record.name);
        field(out, 'V', record.version);
        field(out, 'A', record.arch);
        field(out, 'S', std::to_string(record.download_size));
        field(out, 'I', std::to_string(record.installed_size));
        field(out, 'T', info.pkgdesc);
        field(out, 'U', info.url);
        field(out, 'L', info.license);
        field(out, 'o', info.origin);
        field(out, 'm', info.maintainer);
        field(out, 't', info.builddate != 0 ? std::to_string(info.builddate) : "");
        field(out, 'c', info.commit);
        field(out, 'D', fmt::format("{}", fmt::join(info.depends, " ")));
        field(out, 'p', fmt::format("{}", fmt::join(info.provides, " ")));
        field(out, 'i', fmt::format("{}", fmt::join(info.install_if, " ")));
        // Files by directory, as apk lists them: each directory the package shipped (and the
        // image still holds) once, its files after it.
        std::map<std::string, std::vector<const unpack::ShippedPath*>> by_dir;
        for (const auto& shipped : record.paths) {
            const auto* entry = tree.find(shipped.path);
            if (entry == nullptr || entry->origin != record.name) {
                continue; // the path policy dropped it, or another package's copy won
            }
            if (shipped.type == EntryType::directory) {
                by_dir[shipped.path];
            } else {
                const auto slash = shipped.path.rfind('/');
                by_dir[slash == std::string::npos ? "" : shipped.path.substr(0, slash)].push_back(
                    &shipped);
            }
        }
        for (const auto& [dir, files] : by_dir) {
            if (!dir.empty()) {
                out += fmt::format("F:{}\n", dir);
                if (const auto* entry = tree.find(dir)) {
                    out += owner_line('M', *entry, 0755);
                }
            }
            for (const auto* shipped : files) {
                const auto* entry = tree.find(shipped->path);
                const auto slash = shipped->path.rfind('/');
                out += fmt::format("R:{}\n", slash == std::string::npos
                                                 ? shipped->path
                                                 : shipped->path.substr(slash + 1));
                if (entry->type == EntryType::symlink) {
                    core::Hasher sha1(core::HashAlgorithm::sha1);
                    sha1.update(entry->link);
                    out += fmt::format("a:0:0:777\nZ:{}\n", apk_checksum(sha1.raw_digest()));
                    continue;
                }
                out += owner_line('a', *entry, 0644);
                if (const auto checksum = content_checksum(tree, *entry); !checksum.empty()) {
                    out += fmt::format("Z:{}\n", checksum);
                }
            }
        }
        records.emplace_back(record.name, std::move(out));
    }
    std::sort(records.begin(), records.end());
    std::string installed;
    for (const auto& [name, text] : records) {
        installed += text + "\n";
    }
    const unpack::Tree::Explaining why(
        tree, "apk's package database: exactly the packages and the files in the image");
    tree.put_directory("lib/apk/db");
    tree.put_file(std::string(k_installed), installed);
    tree.put_directory("etc/apk");
    std::sort(world.begin(), world.end());
    tree.put_file("etc/apk/world",
                  world.empty() ? "" : fmt::format("{}\n", fmt::join(world, "\n")));
    return records.size();
}

std::vector<InstalledPackage> read_installed_database(std::string_view text) {
    // The installed database is an APKINDEX with file lines (F:, R:, Z:, ...), which the
    // index parser passes over as apk does.
    std::vector<InstalledPackage> packages;
    for (auto& entry : parse_index(text, k_installed).packages) {
        const auto source = entry.origin.empty() ? entry.name : entry.origin;
        packages.push_back(InstalledPackage{std::move(entry.name), std::move(entry.version),
                                            std::move(entry.arch), source, entry.installed_size});
    }
    return packages;
}

} // namespace distill::distro::alpine
