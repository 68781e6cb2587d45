#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <memory>
#include <vector>

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <distill/core/archive.hpp>
#include <distill/core/fs.hpp>
#include <distill/image/layout.hpp>
#include <distill/image/output.hpp>

namespace distill::image {
namespace {

namespace fs = std::filesystem;

bool is_layout(const fs::path& dir) {
    std::error_code error;
    return fs::is_regular_file(dir / "oci-layout", error) &&
           fs::is_regular_file(dir / "index.json", error);
}

} // namespace

core::TempDir staging_dir_for(const fs::path& destination) {
    const fs::path absolute = fs::absolute(destination);
    fs::create_directories(absolute.parent_path());
    const auto prefix = fmt::format(".{}.distill-", absolute.filename().string());
    // What a killed build of this output left: its staging directory, its archive's temporary
    // file.
    core::remove_stale(absolute.parent_path(), prefix);
    core::remove_stale(absolute.parent_path(),
                       core::temporary_prefix(absolute.filename().string()));
    return core::TempDir(prefix, absolute.parent_path());
}

void publish_layout(const fs::path& staged, const fs::path& destination) {
    std::error_code error;
    if (fs::exists(destination, error)) {
        if (!fs::is_directory(destination, error) ||
            (!is_layout(destination) && !fs::is_empty(destination, error))) {
            throw Error(fmt::format("{}: exists and is not an OCI image layout; refusing to "
                                    "replace it (choose another --output)",
                                    destination.string()));
        }
        // Swap in one step, then remove the old image from where the new one was staged.
        if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, destination.c_str(), RENAME_EXCHANGE) !=
            0) {
            throw Error(fmt::format("{}: cannot replace it: {}", destination.string(),
                                    core::errno_text(errno)));
        }
        return;
    }
    if (::rename(staged.c_str(), destination.c_str()) != 0) {
        throw Error(
            fmt::format("{}: cannot create it: {}", destination.string(), core::errno_text(errno)));
    }
}

void write_layout_archive(const fs::path& layout_dir, const fs::path& destination,
                          std::int64_t epoch, const std::optional<std::string>& docker_manifest) {
    core::AtomicFile file(destination);
    const auto writer = core::Archive::writer();
    const core::ArchiveEntry header;
    archive_write_set_format_pax_restricted(writer.get());
    if (archive_write_open_fd(writer.get(), file.fd()) != ARCHIVE_OK) {
        throw Error(fmt::format("{}: {}", destination.string(), writer.error()));
    }
    const auto fail = [&] {
        throw Error(fmt::format("{}: {}", destination.string(), writer.error()));
    };
    const auto add = [&](const std::string& name, const std::string* content,
                         const fs::path* source) {
        archive_entry_clear(header.get());
        archive_entry_set_pathname(header.get(), name.c_str());
        archive_entry_set_mtime(header.get(), epoch, 0);
        archive_entry_set_uid(header.get(), 0);
        archive_entry_set_gid(header.get(), 0);
        if (content == nullptr && source == nullptr) {
            archive_entry_set_filetype(header.get(), AE_IFDIR);
            archive_entry_set_perm(header.get(), 0755);
        } else {
            archive_entry_set_filetype(header.get(), AE_IFREG);
            archive_entry_set_perm(header.get(), 0644);
            archive_entry_set_size(
                header.get(), static_cast<la_int64_t>(content != nullptr ? content->size()
                                                                         : fs::file_size(*source)));
        }
        if (archive_write_header(writer.get(), header.get()) < ARCHIVE_WARN) {
            fail();
        }
        const auto write = [&](std::span<const std::byte> bytes) {
            if (archive_write_data(writer.get(), bytes.data(), bytes.size()) < 0) {
                fail();
            }
        };
        if (content != nullptr) {
            write(std::as_bytes(std::span(content->data(), content->size())));
        } else if (source != nullptr) {
            core::read_file_chunks(*source, write);
        }
    };
    std::vector<fs::path> blobs;
    for (const auto& item : fs::directory_iterator(layout_dir / "blobs" / "sha256")) {
        blobs.push_back(item.path());
    }
    std::sort(blobs.begin(), blobs.end());
    add("blobs", nullptr, nullptr);
    add("blobs/sha256", nullptr, nullptr);
    for (const auto& blob : blobs) {
        add("blobs/sha256/" + blob.filename().string(), nullptr, &blob);
    }
    const std::string index = core::read_file(layout_dir / "index.json");
    add("index.json", &index, nullptr);
    if (docker_manifest) {
        add("manifest.json", &*docker_manifest, nullptr);
    }
    const std::string layout = core::read_file(layout_dir / "oci-layout");
    add("oci-layout", &layout, nullptr);
    if (archive_write_close(writer.get()) != ARCHIVE_OK) {
        fail();
    }
    file.commit();
}

std::string docker_manifest_json(const Descriptor& config, const Descriptor& layer,
                                 const std::string& repo_tag) {
    const auto path = [](const Descriptor& d) {
        return "blobs/sha256/" + d.digest.substr(d.digest.find(':') + 1);
    };
    return nlohmann::json::array(
               {{{"Config", path(config)}, {"RepoTags", {repo_tag}}, {"Layers", {path(layer)}}}})
        .dump();
}

std::optional<std::string> existing_digest(const fs::path& path) {
    try {
        return Layout::open(path).top().blob.digest;
    } catch (const std::exception&) {
        return std::nullopt; // not a layout, or not one to trust: there is no previous image
    }
}

} // namespace distill::image
