#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <set>
#include <span>
#include <string_view>
#include <vector>

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>

#include <distill/core/archive.hpp>
#include <distill/core/cancel.hpp>
#include <distill/core/text.hpp>
#include <distill/distro/debian/control.hpp>
#include <distill/distro/debian/deb.hpp>
#include <distill/distro/debian/installers.hpp>

namespace distill::distro::debian {
namespace {

using unpack::Input;
using unpack::PackageFile;
using unpack::PackWriter;

/// Control members are small text files; anything bigger is not a sane package.
constexpr std::uint64_t k_max_control_member = 8U << 20U;
constexpr std::size_t k_chunk = 256U << 10U;

EntryType type_of(archive_entry* entry) {
    if (archive_entry_hardlink(entry) != nullptr) {
        return EntryType::hardlink;
    }
    switch (archive_entry_filetype(entry)) {
    case AE_IFDIR:
        return EntryType::directory;
    case AE_IFLNK:
        return EntryType::symlink;
    case AE_IFCHR:
        return EntryType::char_device;
    case AE_IFBLK:
        return EntryType::block_device;
    case AE_IFIFO:
        return EntryType::fifo;
    case AE_IFSOCK:
        return EntryType::socket;
    default:
        return EntryType::file;
    }
}

/// The .deb itself read through PackageFile, which hashes what libarchive reads.
struct FileStream {
    PackageFile* file;
    std::vector<char> buffer = std::vector<char>(k_chunk);
};

la_ssize_t read_file(archive* outer, void* client, const void** data) {
    auto* stream = static_cast<FileStream*>(client);
    try {
        const auto got = stream->file->read(std::span(stream->buffer));
        *data = stream->buffer.data();
        return static_cast<la_ssize_t>(got);
    } catch (const std::exception& error) {
        // No exception may cross libarchive's C frames.
        archive_set_error(outer, EIO, "%s", error.what());
        return ARCHIVE_FATAL;
    }
}

/// An ar member read as a stream by a second libarchive reader: the member's bytes come from
/// the outer reader on demand, so no member is ever held whole.
struct MemberStream {
    archive* outer;
    std::array<char, 64U << 10U> buffer{};
};

la_ssize_t read_member(archive* inner, void* client, const void** data) {
    auto* stream = static_cast<MemberStream*>(client);
    const la_ssize_t got =
        archive_read_data(stream->outer, stream->buffer.data(), stream->buffer.size());
    if (got < 0) {
        archive_set_error(inner, archive_errno(stream->outer), "%s",
                          core::archive_error(stream->outer).c_str());
        return ARCHIVE_FATAL;
    }
    *data = stream->buffer.data();
    return got;
}

core::Archive open_member(MemberStream& stream, std::string_view label, std::string_view member) {
    auto inner = core::Archive::reader();
    archive_read_support_filter_all(inner.get());
    archive_read_support_format_tar(inner.get());
    if (archive_read_open(inner.get(), &stream, nullptr, &read_member, nullptr) != ARCHIVE_OK) {
        throw Error(fmt::format("{}: {}: {}", label, member, inner.error()));
    }
    return inner;
}

/// The compressions dpkg reads each member in (deb(5)).
constexpr std::array<std::string_view, 4> k_control_suffixes{"", ".gz", ".xz", ".zst"};
constexpr std::array<std::string_view, 6> k_data_suffixes{"",     ".gz",  ".xz",
                                                          ".zst", ".bz2", ".lzma"};

template <std::size_t N>
bool is_member(std::string_view name, std::string_view stem,
               const std::array<std::string_view, N>& suffixes) {
    if (!name.starts_with(stem)) {
        return false;
    }
    name.remove_prefix(stem.size());
    return std::find(suffixes.begin(), suffixes.end(), name) != suffixes.end();
}

/// An entry name the package database could not list truthfully: dpkg refuses a newline in
/// a name (it would add a line to info/NAME.list), and no other control character is ever
/// needed in one.
void check_entry_name(std::string_view label, std::string_view member, std::string_view name) {
    for (const char c : name) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f) {
            throw UnsafeContentError(
                fmt::format("{}: {}: the name `{}` holds a control character; refusing the package",
                            label, member, core::printable(name)));
        }
    }
}

/// Reads a file member of data.tar block by block, filling each buffer whole as
/// archive_read_data would. A block that does not start where the last one ended is a hole,
/// and a hole means a sparse file: dpkg unpacks none (its tar reader knows no such type), and
/// a sparse map can promise more data than the member holds, which libarchive would fill with
/// zeros. Refused, like every member dpkg refuses.
class DenseReader {
public:
    DenseReader(archive* tar, std::string_view label, std::string_view path)
        : m_tar(tar)
        , m_label(label)
        , m_path(path) {}

    /// Up to buffer.size() bytes of the file; fewer only at its end.
    std::size_t read(std::span<char> buffer) {
        std::size_t filled = 0;
        while (filled < buffer.size() && (m_used < m_block_size || next_block())) {
            const std::size_t count = std::min(buffer.size() - filled, m_block_size - m_used);
            std::memcpy(buffer.data() + filled, static_cast<const char*>(m_block) + m_used, count);
            m_used += count;
            filled += count;
        }
        return filled;
    }

private:
    /// The next block of data; false at the end of the file.
    bool next_block() {
        la_int64_t offset = 0;
        const int got = archive_read_data_block(m_tar, &m_block, &m_block_size, &offset);
        m_used = 0;
        if (got == ARCHIVE_EOF) {
            m_block_size = 0;
            if (offset > m_next) {
                throw sparse(); // a hole at the end
            }
            return false;
        }
        if (got < ARCHIVE_WARN) {
            throw Error(fmt::format("{}: data.tar: {}: {}", m_label, core::printable(m_path),
                                    core::archive_error(m_tar)));
        }
        if (offset != m_next) {
            throw sparse();
        }
        m_next += static_cast<la_int64_t>(m_block_size);
        return true;
    }

    [[nodiscard]] UnsafeContentError sparse() const {
        return UnsafeContentError(fmt::format("{}: data.tar: {}: a sparse file, which dpkg does "
                                              "not unpack",
                                              m_label, core::printable(m_path)));
    }

    archive* m_tar;
    std::string_view m_label;
    std::string_view m_path;
    const void* m_block = nullptr;
    std::size_t m_block_size = 0;
    std::size_t m_used = 0;
    la_int64_t m_next = 0; ///< where the next block must start
};

/// An entry's path. libarchive gives none (nullptr) for an entry without a name or with one it
/// cannot convert; that is a malformed package, not a string to construct.
std::string path_of(archive_entry* entry, const std::string& label, std::string_view member) {
    const char* path = archive_entry_pathname(entry);
    if (path == nullptr) {
        throw Error(fmt::format("{}: {}: an entry without a readable name", label, member));
    }
    return path;
}

/// "./usr/bin/x" and "usr/bin/x" name the same control member.
std::string_view member_name(std::string_view path) {
    while (path.starts_with("./")) {
        path.remove_prefix(2);
    }
    return path;
}

/// One .deb being read into a package's content.
class DebUnpacker {
public:
    DebUnpacker(const Input& input, PackageFile& file, PackWriter& pack, UnpackedPackage& package)
        : m_input(input)
        , m_file(file)
        , m_pack(pack)
        , m_package(package) {}

    void run() {
        const std::string& label = m_input.label;
        auto outer = core::Archive::reader();
        archive_read_support_format_ar(outer.get());
        FileStream stream{&m_file};
        if (archive_read_open(outer.get(), &stream, nullptr, &read_file, nullptr) != ARCHIVE_OK) {
            throw Error(fmt::format("{}: {}: {}", label, m_input.path.string(), outer.error()));
        }
        // deb(5): debian-binary first, then one control member, then one data member, in this
        // order; members named with a leading '_' may come between and are not ours to read.
        // dpkg stops at the data member, so anything after it would be content that
        // `dpkg-deb -c` never shows: refused, like every other member dpkg does not know.
        enum class Next { version, control, data, end };
        Next next = Next::version;
        archive_entry* member = nullptr;
        for (;;) {
            const int status = archive_read_next_header(outer.get(), &member);
            if (status == ARCHIVE_EOF) {
                break;
            }
            if (status < ARCHIVE_WARN) {
                throw Error(fmt::format("{}: not a valid .deb: {}", label, outer.error()));
            }
            std::string name = path_of(member, label, "ar archive");
            // GNU ar ends member names with '/'.
            while (!name.empty() && name.back() == '/') {
                name.pop_back();
            }
            if (next == Next::version) {
                if (name != "debian-binary") {
                    throw UnsafeContentError(fmt::format(
                        "{}: not a valid .deb: the first member is `{}`, not debian-binary", label,
                        core::printable(name)));
                }
                std::array<char, 16> version{};
                const auto got = archive_read_data(outer.get(), version.data(), version.size());
                if (got < 4 || std::string_view(version.data(), 2) != "2.") {
                    throw Error(fmt::format("{}: unsupported .deb format version", label));
                }
                next = Next::control;
            } else if (name.starts_with("_")) {
                continue; // deb(5): reserved for others, ignored by dpkg
            } else if (next == Next::control &&
                       is_member(name, "control.tar", k_control_suffixes)) {
                read_control(outer.get());
                next = Next::data;
            } else if (next == Next::data && is_member(name, "data.tar", k_data_suffixes)) {
                m_package.date = archive_entry_mtime(member);
                const auto compressed = static_cast<std::uint64_t>(archive_entry_size(member));
                read_data(outer.get(), compressed);
                next = Next::end;
            } else {
                throw UnsafeContentError(fmt::format(
                    "{}: member `{}` is not allowed {} of the .deb (deb(5) wants debian-binary, "
                    "one control.tar, one data.tar, in this order); refusing the package",
                    label, core::printable(name),
                    next == Next::control ? "before the control member"
                    : next == Next::data  ? "between the control and the data members"
                                          : "after the data member"));
            }
        }
        if (next != Next::end) {
            throw Error(fmt::format("{}: not a valid .deb: missing {}", label,
                                    next == Next::version   ? "debian-binary"
                                    : next == Next::control ? "control.tar"
                                                            : "data.tar"));
        }
        if (m_package.control.empty()) {
            throw Error(fmt::format("{}: the package has no control file", label));
        }
        // The image's package database copies the control file: a second paragraph would list
        // a package that is not there.
        if (const auto paragraphs = parse_paragraphs(m_package.control, label + ": control");
            paragraphs.size() != 1) {
            throw UnsafeContentError(fmt::format("{}: the control file holds {} paragraphs; a "
                                                 "package describes itself in exactly one",
                                                 label, paragraphs.size()));
        }
    }

private:
    void read_control(archive* outer) {
        MemberStream stream{outer};
        auto inner = open_member(stream, m_input.label, "control.tar");
        std::set<std::string> seen;
        archive_entry* entry = nullptr;
        for (;;) {
            const int status = archive_read_next_header(inner.get(), &entry);
            if (status == ARCHIVE_EOF) {
                return;
            }
            if (status < ARCHIVE_WARN) {
                throw Error(fmt::format("{}: control.tar: {}", m_input.label, inner.error()));
            }
            const auto path = path_of(entry, m_input.label, "control.tar");
            const auto name = member_name(path);
            check_entry_name(m_input.label, "control.tar", name);
            if (archive_entry_filetype(entry) != AE_IFREG) {
                continue;
            }
            const auto scripts = install_scripts();
            const bool script = std::find(scripts.begin(), scripts.end(), name) != scripts.end();
            std::string* target = name == "control"     ? &m_package.control
                                  : name == "md5sums"   ? &m_package.md5sums
                                  : name == "conffiles" ? &m_package.conffiles
                                  : script              ? &m_package.scripts[std::string(name)]
                                                        : nullptr;
            if (target == nullptr) {
                continue;
            }
            if (!seen.insert(std::string(name)).second) {
                // Read twice, the two would be joined: a second control file would add a
                // package to the database.
                throw UnsafeContentError(
                    fmt::format("{}: control.tar holds `{}` twice; refusing the package",
                                m_input.label, core::printable(name)));
            }
            if (static_cast<std::uint64_t>(archive_entry_size(entry)) > k_max_control_member) {
                throw Error(
                    fmt::format("{}: control member `{}` is too large", m_input.label, name));
            }
            std::array<char, 64U << 10U> buffer{};
            for (;;) {
                const auto got = archive_read_data(inner.get(), buffer.data(), buffer.size());
                if (got < 0) {
                    throw Error(fmt::format("{}: control.tar: {}", m_input.label, inner.error()));
                }
                if (got == 0) {
                    break;
                }
                target->append(buffer.data(), static_cast<std::size_t>(got));
            }
        }
    }

    void read_data(archive* outer, std::uint64_t compressed) {
        MemberStream stream{outer};
        auto inner = open_member(stream, m_input.label, "data.tar");
        archive_entry* entry = nullptr;
        for (;;) {
            core::throw_if_cancelled();
            const int status = archive_read_next_header(inner.get(), &entry);
            if (status == ARCHIVE_EOF) {
                return;
            }
            if (status < ARCHIVE_WARN) {
                throw Error(fmt::format("{}: data.tar: {}", m_input.label, inner.error()));
            }
            if (m_package.entries.size() >= m_input.limits.max_entries) {
                throw UnsafeContentError(
                    fmt::format("{}: data.tar: more than {} entries; refusing the package",
                                m_input.label, m_input.limits.max_entries));
            }
            RawEntry raw;
            raw.path = path_of(entry, m_input.label, "data.tar");
            check_entry_name(m_input.label, "data.tar", raw.path);
            raw.type = type_of(entry);
            raw.mode = static_cast<std::uint32_t>(archive_entry_mode(entry)) & 07777U;
            raw.uid = static_cast<std::uint32_t>(archive_entry_uid(entry));
            raw.gid = static_cast<std::uint32_t>(archive_entry_gid(entry));
            if (raw.type == EntryType::hardlink) {
                raw.link = archive_entry_hardlink(entry);
                check_entry_name(m_input.label, "data.tar", raw.link);
            } else if (raw.type == EntryType::symlink) {
                const char* target = archive_entry_symlink(entry);
                raw.link = target != nullptr ? target : "";
            }
            if (raw.type == EntryType::file) {
                DenseReader reader(inner.get(), m_input.label, raw.path);
                m_pack.add_file(raw, compressed,
                                [&](std::span<char> buffer) { return reader.read(buffer); });
                // A member that ends before its header said it would.
                if (const auto promised = archive_entry_size(entry);
                    promised >= 0 && raw.size != static_cast<std::uint64_t>(promised)) {
                    throw Error(fmt::format("{}: data.tar: {}: the header says {} bytes, the "
                                            "archive holds {}",
                                            m_input.label, raw.path, promised, raw.size));
                }
            }
            m_package.entries.push_back(std::move(raw));
        }
    }

    const Input& m_input;
    PackageFile& m_file;
    PackWriter& m_pack;
    UnpackedPackage& m_package;
};

} // namespace

void DebReader::read(const Input& input, PackageFile& file, PackWriter& pack,
                     UnpackedPackage& package) const {
    DebUnpacker(input, file, pack, package).run();
}

UnpackedPackage unpack_deb(const DebInput& input, const core::Cache& cache) {
    return unpack::unpack(input, DebReader(), cache);
}

std::vector<UnpackedPackage> unpack_all(const std::vector<DebInput>& inputs,
                                        const core::Cache& cache, int jobs,
                                        core::Reporter& reporter) {
    return unpack::unpack_all(inputs, DebReader(), cache, jobs, reporter);
}

} // namespace distill::distro::debian
