#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>

#include <distill/core/archive.hpp>
#include <distill/core/cache.hpp>
#include <distill/core/cancel.hpp>
#include <distill/core/digest.hpp>
#include <distill/core/fs.hpp>
#include <distill/image/layer.hpp>

namespace distill::image {
namespace {

namespace fs = std::filesystem;
constexpr std::size_t k_chunk = 256U << 10U;

/// Where the tar stream goes: hashed (the diff_id), then compressed, hashed again (the
/// digest) and written.
struct Output {
    explicit Output(const fs::path& blobs_dir)
        : file(blobs_dir / "layer.partial") {}

    core::AtomicFile file;
    core::Hasher tar_hash;
    core::Hasher blob_hash;
    std::uint64_t tar_size = 0;
    std::uint64_t blob_size = 0;
    std::unique_ptr<Compressor> compressor;
    std::exception_ptr failure; ///< what the callback caught; libarchive only sees "-1"
};

la_ssize_t on_tar_bytes(archive* /*writer*/, void* client, const void* buffer, std::size_t length) {
    auto* out = static_cast<Output*>(client);
    try {
        const auto bytes = std::as_bytes(std::span(static_cast<const char*>(buffer), length));
        out->tar_hash.update(bytes);
        out->tar_size += length;
        out->compressor->write(bytes);
    } catch (...) {
        out->failure = std::current_exception();
        return -1;
    }
    return static_cast<la_ssize_t>(length);
}

class LayerWriter {
public:
    LayerWriter(const unpack::Tree& tree, const LayerOptions& options, const fs::path& blobs_dir,
                core::Reporter& reporter)
        : m_tree(tree)
        , m_options(options)
        , m_reporter(reporter)
        , m_out(blobs_dir)
        , m_writer(core::Archive::writer())
        , m_packs(tree.packs().size())
        , m_buffer(k_chunk) {
        m_out.compressor = make_compressor(options.compression, options.jobs,
                                           [this](std::span<const std::byte> data) {
                                               m_out.blob_hash.update(data);
                                               m_out.blob_size += data.size();
                                               m_out.file.write(data);
                                           });
    }

    Layer run(const fs::path& blobs_dir) {
        archive* writer = m_writer.get();
        // Restricted pax: plain ustar headers, with a pax extension only for values ustar
        // cannot hold (long paths and link targets, large sizes and ids).
        check(archive_write_set_format_pax_restricted(writer), "choosing the tar format");
        check(archive_write_open(writer, &m_out, nullptr, &on_tar_bytes, nullptr),
              "starting the layer");
        std::uint64_t total = 0;
        for (const auto& [path, entry] : m_tree.entries()) {
            total += entry.size;
        }
        Layer layer;
        std::uint64_t done = 0;
        for (const auto& [path, entry] : m_tree.entries()) {
            core::throw_if_cancelled();
            write_entry(path, entry);
            ++layer.entries;
            if (entry.type == unpack::EntryType::file ||
                entry.type == unpack::EntryType::hardlink) {
                ++layer.files;
                done += entry.size;
                m_reporter.progress("writing the layer", done, total);
            }
        }
        check(archive_write_close(writer), "finishing the layer");
        m_out.compressor->finish();
        // A hard link written as a link has its file's bytes.
        for (const auto& [path, entry] : m_tree.entries()) {
            if (entry.type == unpack::EntryType::hardlink && !m_sha1.contains(path)) {
                if (const auto found = m_sha1.find(entry.link); found != m_sha1.end()) {
                    m_sha1.emplace(path, found->second);
                }
            }
        }
        layer.sha1 = std::move(m_sha1);

        layer.tar_size = m_out.tar_size;
        layer.diff_id = "sha256:" + m_out.tar_hash.hex_digest();
        const std::string hex = m_out.blob_hash.hex_digest();
        layer.blob =
            Descriptor{layer_media_type(m_options.compression), "sha256:" + hex, m_out.blob_size};
        m_out.file.commit(blobs_dir / hex);
        return layer;
    }

private:
    void check(int status, std::string_view what) {
        if (m_out.failure) {
            std::rethrow_exception(m_out.failure);
        }
        if (status < ARCHIVE_WARN) {
            throw Error(fmt::format("{}: {}", what, m_writer.error()));
        }
    }

    void write_entry(const std::string& path, const unpack::Entry& entry) {
        archive_entry* header = m_entry.get();
        archive_entry_clear(header);
        archive_entry_set_pathname(header, path.c_str());
        archive_entry_set_perm(header, static_cast<mode_t>(entry.mode & 07777U));
        archive_entry_set_uid(header, entry.uid);
        archive_entry_set_gid(header, entry.gid);
        archive_entry_set_mtime(header, m_options.epoch, 0);
        bool with_data = false;
        switch (entry.type) {
        case unpack::EntryType::directory:
            archive_entry_set_filetype(header, AE_IFDIR);
            break;
        case unpack::EntryType::symlink:
            archive_entry_set_filetype(header, AE_IFLNK);
            archive_entry_set_symlink(header, entry.link.c_str());
            break;
        case unpack::EntryType::hardlink:
            // A hard link needs its file earlier in the stream; if the file sorts later (or
            // the path policy dropped it), this entry carries the bytes itself.
            if (m_written_files.contains(entry.link)) {
                archive_entry_set_filetype(header, AE_IFREG);
                archive_entry_set_hardlink(header, entry.link.c_str());
                archive_entry_set_size(header, 0);
                break;
            }
            [[fallthrough]];
        case unpack::EntryType::file:
            archive_entry_set_filetype(header, AE_IFREG);
            archive_entry_set_size(header, static_cast<la_int64_t>(entry.size));
            with_data = true;
            break;
        default:
            throw Error(fmt::format("`/{}`: a {} cannot be written to a layer", path,
                                    unpack::to_string(entry.type)));
        }
        check(archive_write_header(m_writer.get(), header),
              fmt::format("writing the header of `/{}`", path));
        if (with_data) {
            write_data(path, entry);
            m_written_files.insert(path);
        }
    }

    void write_data(const std::string& path, const unpack::Entry& entry) {
        core::Hasher hasher;
        core::Hasher sha1(core::HashAlgorithm::sha1);
        const auto deliver = [&](std::span<const std::byte> bytes) {
            hasher.update(bytes);
            if (m_options.sha1) {
                sha1.update(bytes);
            }
            const auto written = archive_write_data(m_writer.get(), bytes.data(), bytes.size());
            if (written < 0 || static_cast<std::size_t>(written) != bytes.size()) {
                check(ARCHIVE_FATAL, fmt::format("writing `/{}`", path));
            }
        };
        std::uint64_t delivered = 0;
        if (const auto* generated = std::get_if<unpack::GeneratedContent>(&entry.content)) {
            deliver(std::as_bytes(std::span((*generated)->data(), (*generated)->size())));
            delivered = (*generated)->size();
        } else if (const auto* packed = std::get_if<unpack::PackContent>(&entry.content)) {
            auto& fd = m_packs.at(packed->pack);
            const auto& pack_path = m_tree.packs().at(packed->pack);
            if (!fd) {
                fd.emplace(core::open_read(pack_path));
            }
            while (delivered < entry.size) {
                const auto take = std::min<std::uint64_t>(k_chunk, entry.size - delivered);
                const auto chunk = std::span(m_buffer.data(), static_cast<std::size_t>(take));
                core::pread_all(*fd, chunk, packed->offset + delivered, pack_path);
                deliver(chunk);
                delivered += take;
            }
        } else if (const auto* host = std::get_if<unpack::HostContent>(&entry.content)) {
            core::read_file_chunks(host->path, [&](std::span<const std::byte> chunk) {
                if (delivered + chunk.size() > entry.size) {
                    throw Error(
                        fmt::format("{}: changed while the image was built", host->path.string()));
                }
                deliver(chunk);
                delivered += chunk.size();
            });
        }
        if (delivered != entry.size) {
            throw Error(
                fmt::format("`/{}`: expected {} bytes, read {}", path, entry.size, delivered));
        }
        if (const auto actual = hasher.hex_digest(); actual != entry.sha256) {
            const auto* packed = std::get_if<unpack::PackContent>(&entry.content);
            const auto message =
                fmt::format("`/{}` from {}: sha256 {} differs from {} recorded when it was read",
                            path, entry.origin, actual, entry.sha256);
            if (packed != nullptr) {
                // The package's unpacked copy in the cache is damaged: the caller makes it
                // again.
                const auto& pack = m_tree.packs().at(packed->pack);
                throw core::CacheDamageError(
                    fmt::format("{}: the cached unpacked copy {} is damaged", message,
                                pack.string()),
                    pack);
            }
            throw VerificationError(message);
        }
        if (m_options.sha1) {
            m_sha1.emplace(path, sha1.hex_digest());
        }
    }

    const unpack::Tree& m_tree;
    const LayerOptions& m_options;
    core::Reporter& m_reporter;
    Output m_out;
    core::Archive m_writer;
    core::ArchiveEntry m_entry;
    std::vector<std::optional<core::Fd>> m_packs;
    std::vector<std::byte> m_buffer;
    std::set<std::string> m_written_files;
    std::map<std::string, std::string> m_sha1;
};

} // namespace

Layer write_layer(const unpack::Tree& tree, const LayerOptions& options,
                  const std::filesystem::path& blobs_dir, core::Reporter& reporter) {
    std::filesystem::create_directories(blobs_dir);
    return LayerWriter(tree, options, blobs_dir, reporter).run(blobs_dir);
}

} // namespace distill::image
