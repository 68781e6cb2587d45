#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <distill/core/cache.hpp>
#include <distill/core/reporter.hpp>
#include <distill/manifest/manifest.hpp>

// What changed between two builds: package by package, with the CVEs the new versions fix,
// and file by file when both sides are images.
namespace distill::diff {

/// A package as one side has it.
struct Package {
    std::string name;
    std::string version;
    std::string arch;
    std::string source; ///< its source package
    std::uint64_t installed_size = 0;
    std::string sha256;     ///< of the package file, when known (locks)
    std::string url;        ///< where to get the package file, when known (locks)
    std::uint64_t size = 0; ///< of the package file, when known (locks)
};

/// A file of an image.
struct File {
    char type = 'f'; ///< f, d, l (symlink), h (hard link)
    std::uint32_t mode = 0;
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::uint64_t size = 0;
    std::string content; ///< sha256 of a file's bytes, or a link's target

    friend bool operator==(const File&, const File&) = default;
};

/// One architecture of a lock or an image.
struct Arch {
    std::string arch;                        ///< the distro's name
    std::map<std::string, Package> packages; ///< by name
    std::uint64_t size = 0;                  ///< installed size (locks), layer size (images)
    std::optional<std::map<std::string, File>> files; ///< images only
};

/// A lockfile or an OCI image layout, as diff reads it.
struct Side {
    std::string label;
    /// Whose packages these are: the lock's distro, or the distro whose package database the
    /// image holds.
    manifest::Distro distro = manifest::Distro::debian;
    std::string digest; ///< images: the image digest
    bool is_image = false;
    std::vector<Arch> archs;
};

/// Reads a lockfile, or an OCI image layout written by distill (its packages from the package
/// database inside the layer). Anything else is an Error naming the path.
[[nodiscard]] Side load(const std::filesystem::path& path);

/// A package that is in one side only or in both with different versions.
struct PackageChange {
    enum class Kind { added, removed, upgraded, downgraded };
    Kind kind = Kind::added;
    std::string name;
    std::string old_version;
    std::string new_version;
    std::vector<std::string> cves; ///< fixed by the versions in between (upgrades)
    std::vector<std::string> bugs; ///< bugs of the distro's tracker closed by them
    std::vector<std::string> changelog_versions;
    std::string changelog_note; ///< why the changelog could not be read, when it could not
};

/// The changes of one architecture.
struct ArchDiff {
    std::string arch;
    std::vector<PackageChange> packages;
    std::uint64_t size_before = 0;
    std::uint64_t size_after = 0;
    bool has_files = false;
    std::vector<std::string> files_added;
    std::vector<std::string> files_removed;
    std::vector<std::string> files_changed;
};

/// The whole difference.
struct Diff {
    std::string before;
    std::string after;
    std::string digest_before;
    std::string digest_after;
    std::vector<ArchDiff> archs;

    [[nodiscard]] bool empty() const;
};

/// Compares two sides. For every upgraded package the new version's changelog is read from its
/// package file (in the cache; fetched by URL and verified when a lock names it) and the CVE
/// identifiers and closed bugs of the entries between the two versions are listed
/// (distro::Distro::changelog_fixes()).
[[nodiscard]] Diff compare(const Side& before, const Side& after, const core::Cache& cache,
                           core::Reporter& reporter);

/// The first difference between the images of two layouts, in the user's terms: the number of
/// architectures, a file (type, mode, owner, size and content hash on both sides), the image
/// config, the layer's bytes, or else the manifests or the index. `expected` is the layout
/// given, `actual` the rebuild.
[[nodiscard]] std::string first_difference(const std::filesystem::path& expected,
                                           const std::filesystem::path& actual);

} // namespace distill::diff
