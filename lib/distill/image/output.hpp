#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <distill/core/fs.hpp>
#include <distill/image/layer.hpp>

namespace distill::image {

/// A staging directory for a build's output, beside the destination (the same file system, so
/// that publishing is a rename); removed with everything in it when it goes out of scope.
[[nodiscard]] core::TempDir staging_dir_for(const std::filesystem::path& destination);

/// Puts the layout staged in `staged` at `destination` in one step: an existing layout is
/// swapped out atomically (renameat2 RENAME_EXCHANGE) and left at `staged`, so at every moment
/// `destination` is either the old image or the new one. Refuses to replace a directory that
/// is neither empty nor an OCI image layout.
void publish_layout(const std::filesystem::path& staged, const std::filesystem::path& destination);

/// Writes the layout in `layout_dir` as one tar file at `destination` (atomically): sorted
/// entries, numeric owners, every mtime `epoch`. With `docker_manifest`, a Docker-style
/// manifest.json is added, which makes the tar loadable by `docker load` as well.
void write_layout_archive(const std::filesystem::path& layout_dir,
                          const std::filesystem::path& destination, std::int64_t epoch,
                          const std::optional<std::string>& docker_manifest);

/// The manifest.json of a docker-archive for one image in an OCI layout.
[[nodiscard]] std::string docker_manifest_json(const Descriptor& config, const Descriptor& layer,
                                               const std::string& repo_tag);

/// The digest index.json names (the image's digest), when `path` is an OCI image layout or an
/// archive of one; nullopt when there is none.
[[nodiscard]] std::optional<std::string> existing_digest(const std::filesystem::path& path);

} // namespace distill::image
