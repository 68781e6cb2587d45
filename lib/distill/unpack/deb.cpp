#include <algorithm>
#include <array>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <distill/core/cancel.hpp>
#include <distill/core/digest.hpp>
#include <distill/core/fs.hpp>
#include <distill/core/parallel.hpp>
#include <distill/deb/installers.hpp>
#include <distill/unpack/deb.hpp>

namespace distill::unpack {
namespace {

namespace fs = std::filesystem;
using ArchivePtr = std::unique_ptr<archive, decltype(&archive_read_free)>;

/// Bumped whenever the cached form changes meaning, so that old entries are not misread.
constexpr int k_format = 2;
/// Control members are small text files; anything bigger is not a sane package.
constexpr std::uint64_t k_max_control_member = 8U << 20U;
/// The ratio bound starts counting past this many bytes.
constexpr std::uint64_t k_ratio_grace = 64U << 20U;
constexpr std::size_t k_chunk = 256U << 10U;

ArchivePtr new_reader() {
    ArchivePtr reader(archive_read_new(), &archive_read_free);
    if (!reader) {
        throw Error("libarchive: cannot allocate a reader");
    }
    return reader;
}

std::string error_of(archive* reader) {
    const char* text = archive_error_string(reader);
    return text != nullptr ? text : "unknown libarchive error";
}

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
                          error_of(stream->outer).c_str());
        return ARCHIVE_FATAL;
    }
    *data = stream->buffer.data();
    return got;
}

ArchivePtr open_member(MemberStream& stream, std::string_view label, std::string_view member) {
    auto inner = new_reader();
    archive_read_support_filter_all(inner.get());
    archive_read_support_format_tar(inner.get());
    if (archive_read_open(inner.get(), &stream, nullptr, &read_member, nullptr) != ARCHIVE_OK) {
        throw Error(fmt::format("{}: {}: {}", label, member, error_of(inner.get())));
    }
    return inner;
}

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

class Unpacker {
public:
    Unpacker(const DebInput& input, const core::Cache& cache)
        : m_input(input)
        , m_cache(cache) {}

    UnpackedPackage run() {
        const std::string& label = m_input.label;
        auto outer = new_reader();
        archive_read_support_format_ar(outer.get());
        if (archive_read_open_filename(outer.get(), m_input.path.c_str(), k_chunk) != ARCHIVE_OK) {
            throw Error(
                fmt::format("{}: {}: {}", label, m_input.path.string(), error_of(outer.get())));
        }
        core::AtomicFile pack(m_cache.derived_path("unpacked", m_input.sha256 + ".pack"));
        bool seen_version = false;
        bool seen_control = false;
        bool seen_data = false;
        archive_entry* member = nullptr;
        for (;;) {
            const int status = archive_read_next_header(outer.get(), &member);
            if (status == ARCHIVE_EOF) {
                break;
            }
            if (status < ARCHIVE_WARN) {
                throw Error(fmt::format("{}: not a valid .deb: {}", label, error_of(outer.get())));
            }
            std::string name = path_of(member, label, "ar archive");
            // GNU ar ends member names with '/'.
            while (!name.empty() && name.back() == '/') {
                name.pop_back();
            }
            if (name == "debian-binary") {
                std::array<char, 16> version{};
                const auto got = archive_read_data(outer.get(), version.data(), version.size());
                if (got < 4 || std::string_view(version.data(), 2) != "2.") {
                    throw Error(fmt::format("{}: unsupported .deb format version", label));
                }
                seen_version = true;
            } else if (name.starts_with("control.tar")) {
                read_control(outer.get());
                seen_control = true;
            } else if (name.starts_with("data.tar")) {
                m_package.date = archive_entry_mtime(member);
                const auto compressed = static_cast<std::uint64_t>(archive_entry_size(member));
                read_data(outer.get(), compressed, pack);
                seen_data = true;
            } else if (!name.starts_with("_")) {
                // dpkg-deb refuses unknown members too, except those starting with '_'.
                throw Error(fmt::format("{}: unexpected member `{}` in the .deb", label, name));
            }
        }
        if (!seen_version || !seen_control || !seen_data) {
            throw Error(fmt::format("{}: not a valid .deb: missing {}", label,
                                    !seen_version   ? "debian-binary"
                                    : !seen_control ? "control.tar"
                                                    : "data.tar"));
        }
        if (m_package.control.empty()) {
            throw Error(fmt::format("{}: the package has no control file", label));
        }
        // The pack first, then the index that names it: a reader that finds the index finds a
        // complete pack.
        const fs::path pack_path = pack.destination();
        pack.commit();
        m_package.pack = pack_path;
        core::write_file_atomic(m_cache.derived_path("unpacked", m_input.sha256 + ".json"),
                                to_json().dump());
        return std::move(m_package);
    }

private:
    void read_control(archive* outer) {
        MemberStream stream{outer};
        auto inner = open_member(stream, m_input.label, "control.tar");
        archive_entry* entry = nullptr;
        for (;;) {
            const int status = archive_read_next_header(inner.get(), &entry);
            if (status == ARCHIVE_EOF) {
                return;
            }
            if (status < ARCHIVE_WARN) {
                throw Error(
                    fmt::format("{}: control.tar: {}", m_input.label, error_of(inner.get())));
            }
            const auto path = path_of(entry, m_input.label, "control.tar");
            const auto name = member_name(path);
            if (archive_entry_filetype(entry) != AE_IFREG) {
                continue;
            }
            const auto scripts = deb::install_scripts();
            const bool script = std::find(scripts.begin(), scripts.end(), name) != scripts.end();
            std::string* target = name == "control"     ? &m_package.control
                                  : name == "md5sums"   ? &m_package.md5sums
                                  : name == "conffiles" ? &m_package.conffiles
                                  : script              ? &m_package.scripts[std::string(name)]
                                                        : nullptr;
            if (target == nullptr) {
                continue;
            }
            if (static_cast<std::uint64_t>(archive_entry_size(entry)) > k_max_control_member) {
                throw Error(
                    fmt::format("{}: control member `{}` is too large", m_input.label, name));
            }
            std::array<char, 64U << 10U> buffer{};
            for (;;) {
                const auto got = archive_read_data(inner.get(), buffer.data(), buffer.size());
                if (got < 0) {
                    throw Error(
                        fmt::format("{}: control.tar: {}", m_input.label, error_of(inner.get())));
                }
                if (got == 0) {
                    break;
                }
                target->append(buffer.data(), static_cast<std::size_t>(got));
            }
        }
    }

    void read_data(archive* outer, std::uint64_t compressed, core::AtomicFile& pack) {
        MemberStream stream{outer};
        auto inner = open_member(stream, m_input.label, "data.tar");
        std::vector<char> buffer(k_chunk);
        archive_entry* entry = nullptr;
        for (;;) {
            core::throw_if_cancelled();
            const int status = archive_read_next_header(inner.get(), &entry);
            if (status == ARCHIVE_EOF) {
                return;
            }
            if (status < ARCHIVE_WARN) {
                throw Error(fmt::format("{}: data.tar: {}", m_input.label, error_of(inner.get())));
            }
            RawEntry raw;
            raw.path = path_of(entry, m_input.label, "data.tar");
            raw.type = type_of(entry);
            raw.mode = static_cast<std::uint32_t>(archive_entry_mode(entry)) & 07777U;
            raw.uid = static_cast<std::uint32_t>(archive_entry_uid(entry));
            raw.gid = static_cast<std::uint32_t>(archive_entry_gid(entry));
            if (raw.type == EntryType::hardlink) {
                raw.link = archive_entry_hardlink(entry);
            } else if (raw.type == EntryType::symlink) {
                const char* target = archive_entry_symlink(entry);
                raw.link = target != nullptr ? target : "";
            }
            if (raw.type == EntryType::file) {
                read_file(inner.get(), raw, compressed, pack, buffer);
            }
            m_package.entries.push_back(std::move(raw));
        }
    }

    void read_file(archive* inner, RawEntry& raw, std::uint64_t compressed, core::AtomicFile& pack,
                   std::vector<char>& buffer) {
        core::Hasher sha256;
        core::Hasher md5(core::HashAlgorithm::md5);
        raw.offset = m_package.unpacked_bytes;
        for (;;) {
            const auto got = archive_read_data(inner, buffer.data(), buffer.size());
            if (got < 0) {
                throw Error(
                    fmt::format("{}: data.tar: {}: {}", m_input.label, raw.path, error_of(inner)));
            }
            if (got == 0) {
                break;
            }
            const auto bytes =
                std::as_bytes(std::span(buffer.data(), static_cast<std::size_t>(got)));
            raw.size += bytes.size();
            m_package.unpacked_bytes += bytes.size();
            check_limits(compressed);
            sha256.update(bytes);
            md5.update(bytes);
            pack.write(bytes);
        }
        raw.sha256 = sha256.hex_digest();
        raw.md5 = md5.hex_digest();
    }

    void check_limits(std::uint64_t compressed) const {
        const auto total = m_package.unpacked_bytes;
        const auto& limits = m_input.limits;
        if (limits.max_bytes != 0 && total > limits.max_bytes) {
            throw UnsafeContentError(fmt::format(
                "{}: the data archive expands beyond {} bytes, far more than the index's "
                "Installed-Size; refusing it",
                m_input.label, limits.max_bytes));
        }
        if (total > k_ratio_grace && compressed != 0 && total / compressed > limits.max_ratio) {
            throw UnsafeContentError(fmt::format(
                "{}: the data archive expands more than {} times its compressed size ({} bytes); "
                "refusing it as a decompression bomb",
                m_input.label, limits.max_ratio, compressed));
        }
    }

    [[nodiscard]] nlohmann::json to_json() const {
        nlohmann::json entries = nlohmann::json::array();
        for (const auto& e : m_package.entries) {
            entries.push_back({e.path, static_cast<int>(e.type), e.mode, e.uid, e.gid, e.link,
                               e.size, e.offset, e.sha256, e.md5});
        }
        return {{"format", k_format},
                {"control", m_package.control},
                {"md5sums", m_package.md5sums},
                {"conffiles", m_package.conffiles},
                {"scripts", m_package.scripts},
                {"date", m_package.date},
                {"unpacked_bytes", m_package.unpacked_bytes},
                {"entries", std::move(entries)}};
    }

    const DebInput& m_input;
    const core::Cache& m_cache;
    UnpackedPackage m_package;
};

/// The cached form, when it is present and complete; nullopt otherwise (it is then rebuilt).
std::optional<UnpackedPackage> load_cached(const DebInput& input, const core::Cache& cache) {
    const auto index = cache.derived_path("unpacked", input.sha256 + ".json");
    const auto pack = cache.derived_path("unpacked", input.sha256 + ".pack");
    std::error_code error;
    if (!fs::exists(index, error)) {
        return std::nullopt;
    }
    try {
        const auto json = nlohmann::json::parse(core::read_file(index));
        if (json.at("format").get<int>() != k_format) {
            return std::nullopt;
        }
        UnpackedPackage package;
        package.control = json.at("control").get<std::string>();
        package.md5sums = json.at("md5sums").get<std::string>();
        package.conffiles = json.at("conffiles").get<std::string>();
        package.scripts = json.at("scripts").get<std::map<std::string, std::string>>();
        package.date = json.at("date").get<std::int64_t>();
        package.unpacked_bytes = json.at("unpacked_bytes").get<std::uint64_t>();
        if (fs::file_size(pack, error) != package.unpacked_bytes || error) {
            return std::nullopt;
        }
        for (const auto& e : json.at("entries")) {
            RawEntry raw;
            raw.path = e.at(0).get<std::string>();
            raw.type = static_cast<EntryType>(e.at(1).get<int>());
            raw.mode = e.at(2).get<std::uint32_t>();
            raw.uid = e.at(3).get<std::uint32_t>();
            raw.gid = e.at(4).get<std::uint32_t>();
            raw.link = e.at(5).get<std::string>();
            raw.size = e.at(6).get<std::uint64_t>();
            raw.offset = e.at(7).get<std::uint64_t>();
            raw.sha256 = e.at(8).get<std::string>();
            raw.md5 = e.at(9).get<std::string>();
            package.entries.push_back(std::move(raw));
        }
        package.pack = pack;
        return package;
    } catch (const std::exception&) {
        return std::nullopt; // unreadable: unpack again
    }
}

} // namespace

const char* to_string(EntryType type) {
    switch (type) {
    case EntryType::file:
        return "file";
    case EntryType::directory:
        return "directory";
    case EntryType::symlink:
        return "symlink";
    case EntryType::hardlink:
        return "hard link";
    case EntryType::char_device:
        return "character device";
    case EntryType::block_device:
        return "block device";
    case EntryType::fifo:
        return "FIFO";
    case EntryType::socket:
        return "socket";
    }
    return "entry";
}

UnpackedPackage unpack_deb(const DebInput& input, const core::Cache& cache) {
    if (auto cached = load_cached(input, cache)) {
        return std::move(*cached);
    }
    return Unpacker(input, cache).run();
}

std::vector<UnpackedPackage> unpack_all(const std::vector<DebInput>& inputs,
                                        const core::Cache& cache, int jobs,
                                        core::Reporter& reporter) {
    std::vector<UnpackedPackage> out(inputs.size());
    std::mutex report_mutex; // reporters draw on one terminal and are not thread-safe
    std::uint64_t done = 0;
    core::parallel_for(inputs.size(), jobs, [&](std::size_t i) {
        out[i] = unpack_deb(inputs[i], cache);
        const std::lock_guard lock(report_mutex);
        reporter.progress("unpacking", ++done, inputs.size());
    });
    return out;
}

} // namespace distill::unpack
