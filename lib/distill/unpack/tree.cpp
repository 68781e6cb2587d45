#include <algorithm>
#include <array>
#include <set>
#include <utility>

#include <fmt/format.h>

#include <distill/core/digest.hpp>
#include <distill/core/fs.hpp>
#include <distill/unpack/tree.hpp>

namespace distill::unpack {
namespace {

/// The top-level directories that merged-/usr releases keep under /usr.
constexpr std::array<std::string_view, 7> k_usr_merged{"bin",   "sbin",   "lib",   "lib32",
                                                       "lib64", "libx32", "libo32"};

std::string first_component(std::string_view path) {
    return std::string(path.substr(0, path.find('/')));
}

std::string parent_of(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

Entry file_entry(std::uint32_t mode, std::uint32_t uid, std::uint32_t gid,
                 std::string_view origin) {
    Entry entry;
    entry.type = EntryType::file;
    entry.mode = mode;
    entry.uid = uid;
    entry.gid = gid;
    entry.origin = origin;
    return entry;
}

bool is_safe_type(EntryType type) {
    return type == EntryType::file || type == EntryType::directory || type == EntryType::symlink ||
           type == EntryType::hardlink;
}

bool same_content(const Entry& a, const Entry& b) {
    const bool a_file = a.type == EntryType::file || a.type == EntryType::hardlink;
    const bool b_file = b.type == EntryType::file || b.type == EntryType::hardlink;
    if (a_file && b_file) {
        return a.sha256 == b.sha256;
    }
    return a.type == b.type && a.link == b.link;
}

std::string describe(const Entry& entry) {
    switch (entry.type) {
    case EntryType::file:
    case EntryType::hardlink:
        return fmt::format("a file with sha256 {}", entry.sha256.substr(0, 12));
    case EntryType::symlink:
        return fmt::format("a symlink to `{}`", entry.link);
    default:
        return fmt::format("a {}", to_string(entry.type));
    }
}

} // namespace

Tree::Tree(Options options)
    : m_options(std::move(options)) {}

std::string Tree::normalise(std::string_view path, std::string_view package) {
    const std::string_view original = path;
    if (path.starts_with('/')) {
        throw UnsafeContentError(fmt::format(
            "{}: `{}` is an absolute path; package paths must stay below the image root", package,
            original));
    }
    std::string out;
    while (!path.empty()) {
        const auto slash = path.find('/');
        const auto part = path.substr(0, slash);
        if (part == "..") {
            throw UnsafeContentError(
                fmt::format("{}: `{}` climbs out of the image root with `..`", package, original));
        }
        if (!part.empty() && part != ".") {
            if (!out.empty()) {
                out += '/';
            }
            out += part;
        }
        if (slash == std::string_view::npos) {
            break;
        }
        path.remove_prefix(slash + 1);
    }
    return out;
}

std::string Tree::merge_usr(std::string path) {
    if (!m_options.merged_usr) {
        return path;
    }
    const auto top = first_component(path);
    if (std::find(k_usr_merged.begin(), k_usr_merged.end(), top) == k_usr_merged.end()) {
        return path;
    }
    if (std::find(m_moved_to_usr.begin(), m_moved_to_usr.end(), top) == m_moved_to_usr.end()) {
        m_moved_to_usr.push_back(top);
    }
    return "usr/" + path;
}

void Tree::ensure_parents(const std::string& path, const std::string& package) {
    for (auto slash = path.find('/'); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
        const std::string prefix = path.substr(0, slash);
        const auto found = m_entries.find(prefix);
        if (found == m_entries.end()) {
            Entry directory;
            directory.origin = package;
            directory.implicit = true;
            m_entries.emplace(prefix, std::move(directory));
            continue;
        }
        const Entry& parent = found->second;
        if (parent.type == EntryType::symlink) {
            throw UnsafeContentError(fmt::format(
                "{}: `/{}` goes through `/{}`, a symlink (to `{}`) from {}; a package path may "
                "not lead through a symlink, where it could land outside the image root",
                package, path, prefix, parent.link, parent.origin));
        }
        if (parent.type != EntryType::directory) {
            throw Error(fmt::format("{}: `/{}` needs `/{}` to be a directory, but {} ships it as "
                                    "{}",
                                    package, path, prefix, parent.origin, describe(parent)));
        }
    }
}

void Tree::insert(const std::string& path, Entry entry) {
    const auto [found, inserted] = m_entries.try_emplace(path, entry);
    if (inserted) {
        return;
    }
    Entry& existing = found->second;
    if (existing.type == EntryType::directory && entry.type == EntryType::directory) {
        if (existing.implicit) {
            existing = std::move(entry); // the listing's mode and owner, not the default
        }
        return;
    }
    if (same_content(existing, entry)) {
        return;
    }
    throw Error(fmt::format("`/{}` is shipped by both {} ({}) and {} ({}); the two packages "
                            "cannot be installed together",
                            path, existing.origin, describe(existing), entry.origin,
                            describe(entry)));
}

void Tree::add_package(const std::string& name, const std::string& arch,
                       const UnpackedPackage& package) {
    package::Record record;
    record.name = name;
    record.arch = arch;
    record.contents = std::make_shared<const UnpackedPackage>(package);
    add_package(std::move(record));
}

void Tree::add_package(package::Record record) {
    if (!record.contents) {
        throw Error(fmt::format("{}: not unpacked", package::label(record)));
    }
    const UnpackedPackage& package = *record.contents;
    const std::string& name = record.name;
    record.paths.clear();
    const auto pack = static_cast<std::uint32_t>(m_packs.size());
    m_packs.push_back(package.pack);
    // Hard links may only point at these: the package's earlier regular files, those the path
    // policy drops included (a link is judged after the policy, not before it).
    std::map<std::string, Entry> own_files;

    for (const auto& raw : package.entries) {
        const std::string shipped = normalise(raw.path, name);
        if (shipped.empty()) {
            continue; // the root directory
        }
        if (!is_safe_type(raw.type)) {
            throw UnsafeContentError(
                fmt::format("{}: `/{}` is a {}; an image holds no device nodes, FIFOs or sockets",
                            name, shipped, to_string(raw.type)));
        }
        if (m_options.merged_usr && raw.type == EntryType::symlink &&
            std::find(k_usr_merged.begin(), k_usr_merged.end(), shipped) != k_usr_merged.end()) {
            continue; // the package's own merged-/usr link (`bin -> usr/bin`); finish() adds it
        }
        const std::string path = merge_usr(shipped);
        ensure_parents(path, name);
        if (const auto found = m_entries.find(path); found != m_entries.end() &&
                                                     found->second.type == EntryType::symlink &&
                                                     raw.type == EntryType::directory) {
            // A package manager would follow the link and unpack what comes below into its
            // target.
            throw UnsafeContentError(fmt::format(
                "{}: `/{}` is a directory in this package but a symlink (to `{}`) from {}; "
                "what the package puts below it would land wherever the link points",
                name, shipped, found->second.link, found->second.origin));
        }

        Entry entry;
        entry.type = raw.type;
        entry.mode = raw.mode;
        entry.uid = raw.uid;
        entry.gid = raw.gid;
        entry.origin = name;
        if (raw.type == EntryType::symlink) {
            if (raw.link.empty()) {
                throw Error(fmt::format("{}: symlink `/{}` has no target", name, shipped));
            }
            entry.link = raw.link;
        } else if (raw.type == EntryType::file) {
            entry.size = raw.size;
            entry.content = PackContent{pack, raw.offset};
            entry.sha256 = raw.sha256;
            entry.md5 = raw.md5;
        } else if (raw.type == EntryType::hardlink) {
            const std::string target = merge_usr(normalise(raw.link, name));
            const auto found = own_files.find(target);
            if (found == own_files.end()) {
                throw UnsafeContentError(fmt::format(
                    "{}: hard link `/{}` points at `{}`, which is not an earlier file of this "
                    "package",
                    name, shipped, raw.link));
            }
            const Entry& file = found->second;
            entry.mode = file.mode;
            entry.size = file.size;
            entry.content = file.content;
            entry.sha256 = file.sha256;
            entry.md5 = file.md5;
            entry.link = target;
            if (!m_entries.contains(target)) {
                // The policy dropped the file it points at: the link keeps the content.
                entry.type = EntryType::file;
                entry.link.clear();
            }
        }
        if (raw.type == EntryType::file) {
            own_files.insert_or_assign(path, entry);
        }
        if (raw.type != EntryType::directory && !m_options.policy.keeps("/" + path)) {
            ++m_trimmed.files;
            m_trimmed.bytes += entry.size;
            record.paths.push_back({shipped, path, raw.type});
            continue;
        }
        if ((entry.mode & 06000U) != 0 && raw.type != EntryType::directory &&
            !m_options.policy.keeps_setuid("/" + path)) {
            entry.mode &= ~06000U;
            ++m_trimmed.setuid_cleared;
        }
        insert(path, std::move(entry));
        record.paths.push_back({shipped, path, raw.type});
    }
    m_packages.push_back(std::move(record));
}

void Tree::replace(const std::string& path, Entry entry) {
    ensure_parents(path, entry.origin);
    remove(path);
    m_entries.emplace(path, std::move(entry));
}

void Tree::put_file(const std::string& path, std::string content, std::uint32_t mode,
                    std::uint32_t uid, std::uint32_t gid, std::string_view origin) {
    Entry entry = file_entry(mode, uid, gid, origin);
    entry.reason = m_reason;
    entry.size = content.size();
    entry.sha256 = core::sha256_hex(content);
    core::Hasher md5(core::HashAlgorithm::md5);
    md5.update(content);
    entry.md5 = md5.hex_digest();
    entry.content = std::make_shared<const std::string>(std::move(content));
    replace(path, std::move(entry));
}

Tree::Explaining::Explaining(Tree& tree, std::string reason)
    : m_tree(tree)
    , m_previous(std::exchange(tree.m_reason, std::move(reason))) {}

Tree::Explaining::~Explaining() {
    m_tree.m_reason = std::move(m_previous);
}

void Tree::put_host_file(const std::string& path, const std::filesystem::path& source,
                         std::uint32_t mode, std::uint32_t uid, std::uint32_t gid) {
    Entry entry = file_entry(mode, uid, gid, k_manifest_files);
    entry.reason = fmt::format("added by the manifest's `files` from {}", source.string());
    entry.size = std::filesystem::file_size(source);
    entry.sha256 = core::file_hex_digest(source);
    entry.md5 = core::file_hex_digest(source, core::HashAlgorithm::md5);
    entry.content = HostContent{source};
    replace(path, std::move(entry));
}

void Tree::put_symlink(const std::string& path, const std::string& target,
                       std::string_view origin) {
    Entry entry = file_entry(0777, 0, 0, origin);
    entry.reason = m_reason;
    entry.type = EntryType::symlink;
    entry.link = target;
    replace(path, std::move(entry));
}

void Tree::put_directory(const std::string& path, std::uint32_t mode, std::uint32_t uid,
                         std::uint32_t gid, std::string_view origin) {
    ensure_parents(path, std::string(origin));
    const auto found = m_entries.find(path);
    if (found != m_entries.end() && found->second.type != EntryType::directory) {
        remove(path);
    }
    Entry& entry = m_entries[path];
    if (entry.origin.empty()) {
        entry.origin = origin;
        entry.reason = m_reason;
    }
    entry.type = EntryType::directory;
    entry.mode = mode;
    entry.uid = uid;
    entry.gid = gid;
    entry.implicit = false;
}

void Tree::remove(const std::string& path) {
    // What lies below `path` sorts in [path + "/", path + "0") ('0' follows '/'); siblings such
    // as "path-x" sort before that range and stay.
    m_entries.erase(m_entries.lower_bound(path + "/"), m_entries.lower_bound(path + "0"));
    m_entries.erase(path);
}

void Tree::finish() {
    if (m_options.merged_usr) {
        for (const auto top : k_usr_merged) {
            const bool always = top == "bin" || top == "sbin" || top == "lib";
            const std::string target = "usr/" + std::string(top);
            const bool moved = std::find(m_moved_to_usr.begin(), m_moved_to_usr.end(), top) !=
                               m_moved_to_usr.end();
            if ((always || moved) && m_entries.contains(target)) {
                put_symlink(std::string(top), target);
            }
        }
    }
    // Directories the policy drops go when nothing below them is left (children sort after
    // their parent, so walking backwards sees them first).
    std::set<std::string> has_children;
    std::vector<std::string> empty_dropped;
    // (Not std::views::reverse: clang 14, which builds the fuzz targets and runs clang-tidy,
    // cannot compile it against GCC 12's <ranges>.)
    // NOLINTNEXTLINE(modernize-loop-convert)
    for (auto it = m_entries.rbegin(); it != m_entries.rend(); ++it) {
        const auto& [path, entry] = *it;
        if (entry.type == EntryType::directory && !has_children.contains(path) &&
            !m_options.policy.keeps("/" + path)) {
            empty_dropped.push_back(path);
            continue;
        }
        has_children.insert(parent_of(path));
    }
    for (const auto& path : empty_dropped) {
        m_entries.erase(path);
    }
}

const Entry* Tree::find(const std::string& path) const {
    const auto found = m_entries.find(path);
    return found == m_entries.end() ? nullptr : &found->second;
}

std::string Tree::read(const std::string& path) const {
    const Entry* entry = find(path);
    if (entry == nullptr ||
        (entry->type != EntryType::file && entry->type != EntryType::hardlink)) {
        throw Error(fmt::format("`/{}` is not a file in the image", path));
    }
    if (const auto* generated = std::get_if<GeneratedContent>(&entry->content)) {
        return **generated;
    }
    if (const auto* host = std::get_if<HostContent>(&entry->content)) {
        return core::read_file(host->path);
    }
    if (const auto* packed = std::get_if<PackContent>(&entry->content)) {
        return core::read_file_range(m_packs.at(packed->pack), packed->offset, entry->size);
    }
    return {};
}

} // namespace distill::unpack
