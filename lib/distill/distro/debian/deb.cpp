#include <algorithm>
#include <array>
#include <cerrno>
#include <set>
#include <span>
#include <string_view>
#include <vector>

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>

#include <distill/core/archive.hpp>
#include <distill/core/text.hpp>
#include <distill/distro/debian/control.hpp>
#include <distill/distro/debian/deb.hpp>
#include <distill/distro/debian/installers.hpp>
#include <distill/unpack/tar.hpp>

namespace distill::distro::debian {
namespace {

using unpack::Input;
using unpack::PackageFile;
using unpack::PackWriter;

/// Control members are small text files; anything bigger is not a sane package.
constexpr std::uint64_t k_max_control_member = 8U << 20U;
constexpr std::size_t k_chunk = 256U << 10U;

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
core::TarStream open_member(archive* outer, const std::string& label, std::string_view member) {
    const auto source = [outer, &label, member](std::span<char> buffer) {
        const la_ssize_t got = archive_read_data(outer, buffer.data(), buffer.size());
        if (got < 0) {
            throw Error(fmt::format("{}: {}: {}", label, member, core::archive_error(outer)));
        }
        return static_cast<std::size_t>(got);
    };
    return {source, core::TarStream::Filters::all, fmt::format("{}: {}", label, member)};
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
            std::string name = unpack::entry_path(member, label, "ar archive");
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
        auto inner = open_member(outer, m_input.label, "control.tar");
        std::set<std::string> seen;
        while (archive_entry* entry = inner.next()) {
            const auto path = unpack::entry_path(entry, m_input.label, "control.tar");
            const auto name = unpack::strip_dot_slash(path);
            unpack::check_entry_name(m_input.label, "control.tar", name);
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
            *target = unpack::read_entry_text(inner, entry, name, k_max_control_member);
        }
    }

    void read_data(archive* outer, std::uint64_t compressed) {
        auto inner = open_member(outer, m_input.label, "data.tar");
        const unpack::DataArchive data{"data.tar", "dpkg", compressed, {}};
        unpack::read_data_archive(inner, data, m_input, m_pack, m_package);
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
