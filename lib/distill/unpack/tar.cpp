#include <algorithm>
#include <array>
#include <cstring>
#include <span>

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>

#include <distill/core/cancel.hpp>
#include <distill/core/text.hpp>
#include <distill/unpack/tar.hpp>

namespace distill::unpack {
namespace {

/// Reads a file entry block by block, filling each buffer whole as archive_read_data would. A
/// block that does not start where the last one ended is a hole, and a hole means a sparse
/// file: neither dpkg nor apk writes one, and a sparse map can promise more data than the
/// archive holds, which libarchive would fill with zeros. Refused.
class DenseReader {
public:
    DenseReader(core::TarStream& tar, const DataArchive& data, std::string_view label,
                std::string_view path)
        : m_tar(tar)
        , m_data(data)
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
        const int got = archive_read_data_block(m_tar.get(), &m_block, &m_block_size, &offset);
        m_used = 0;
        if (got == ARCHIVE_EOF) {
            m_block_size = 0;
            if (offset > m_next) {
                throw sparse(); // a hole at the end
            }
            return false;
        }
        if (got < ARCHIVE_WARN) {
            m_tar.fail(core::printable(m_path));
        }
        if (offset != m_next) {
            throw sparse();
        }
        m_next += static_cast<la_int64_t>(m_block_size);
        return true;
    }

    [[nodiscard]] UnsafeContentError sparse() const {
        return UnsafeContentError(fmt::format("{}: {}: {}: a sparse file, which {} does not unpack",
                                              m_label, m_data.member, core::printable(m_path),
                                              m_data.manager));
    }

    core::TarStream& m_tar;
    const DataArchive& m_data;
    std::string_view m_label;
    std::string_view m_path;
    const void* m_block = nullptr;
    std::size_t m_block_size = 0;
    std::size_t m_used = 0;
    la_int64_t m_next = 0; ///< where the next block must start
};

} // namespace

EntryType entry_type(archive_entry* entry) {
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

std::string entry_path(archive_entry* entry, std::string_view label, std::string_view member) {
    const char* path = archive_entry_pathname(entry);
    if (path == nullptr) {
        throw Error(fmt::format("{}: {}: an entry without a readable name", label, member));
    }
    return path;
}

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

std::string_view strip_dot_slash(std::string_view path) {
    while (path.starts_with("./")) {
        path.remove_prefix(2);
    }
    return path;
}

std::string read_entry_text(core::TarStream& tar, archive_entry* entry, std::string_view name,
                            std::uint64_t max) {
    const auto too_large = [&] {
        return Error(fmt::format("{}: `{}` is larger than {} bytes", tar.origin(),
                                 core::printable(name), max));
    };
    if (static_cast<std::uint64_t>(archive_entry_size(entry)) > max) {
        throw too_large();
    }
    std::string text;
    std::array<char, 64U << 10U> buffer{};
    for (;;) {
        const auto got = archive_read_data(tar.get(), buffer.data(), buffer.size());
        if (got < 0) {
            tar.fail();
        }
        if (got == 0) {
            return text;
        }
        text.append(buffer.data(), static_cast<std::size_t>(got));
        if (text.size() > max) { // a header that lied about the size
            throw too_large();
        }
    }
}

void read_data_archive(core::TarStream& tar, const DataArchive& data, const Input& input,
                       PackWriter& pack, UnpackedPackage& package) {
    const std::string& label = input.label;
    for (;;) {
        core::throw_if_cancelled();
        archive_entry* entry = tar.next();
        if (entry == nullptr) {
            return;
        }
        if (package.entries.size() >= input.limits.max_entries) {
            throw UnsafeContentError(fmt::format("{}: {}: more than {} entries; refusing the "
                                                 "package",
                                                 label, data.member, input.limits.max_entries));
        }
        RawEntry raw;
        raw.path = entry_path(entry, label, data.member);
        check_entry_name(label, data.member, raw.path);
        raw.type = entry_type(entry);
        raw.mode = static_cast<std::uint32_t>(archive_entry_mode(entry)) & 07777U;
        raw.uid = static_cast<std::uint32_t>(archive_entry_uid(entry));
        raw.gid = static_cast<std::uint32_t>(archive_entry_gid(entry));
        if (raw.type == EntryType::hardlink) {
            raw.link = archive_entry_hardlink(entry);
            check_entry_name(label, data.member, raw.link);
        } else if (raw.type == EntryType::symlink) {
            const char* target = archive_entry_symlink(entry);
            raw.link = target != nullptr ? target : "";
        }
        if (data.check) {
            data.check(raw);
        }
        if (raw.type == EntryType::file) {
            DenseReader reader(tar, data, label, raw.path);
            pack.add_file(raw, data.compressed,
                          [&](std::span<char> buffer) { return reader.read(buffer); });
            // A member that ends before its header said it would.
            if (const auto promised = archive_entry_size(entry);
                promised >= 0 && raw.size != static_cast<std::uint64_t>(promised)) {
                throw Error(fmt::format("{}: {}: {}: the header says {} bytes, the archive "
                                        "holds {}",
                                        label, data.member, raw.path, promised, raw.size));
            }
        }
        package.entries.push_back(std::move(raw));
    }
}

} // namespace distill::unpack
