#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <distill/package/record.hpp>
#include <distill/unpack/package.hpp>
#include <distill/unpack/path_policy.hpp>

namespace distill::unpack {

/// A file's bytes in a package's content pack.
struct PackContent {
    std::uint32_t pack = 0;   ///< index into Tree::packs()
    std::uint64_t offset = 0; ///< where the bytes start
};

/// Bytes that distill made (passwd, the CA bundle, the package database, ...).
using GeneratedContent = std::shared_ptr<const std::string>;

/// A local file the manifest adds, read when the layer is written.
struct HostContent {
    std::filesystem::path path;
};

/// Where a regular file's bytes come from.
using Content = std::variant<std::monostate, PackContent, GeneratedContent, HostContent>;

/// Who put an entry into the tree, when it is not a package.
inline constexpr std::string_view k_generated = "(distill)";
inline constexpr std::string_view k_manifest_files = "(manifest)";

/// One entry of the image's filesystem. Only files, directories, symlinks and hard links get
/// this far; the tree refuses everything else.
struct Entry {
    EntryType type = EntryType::directory;
    std::uint32_t mode = 0755; ///< permission bits (07777)
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::string link;       ///< symlink target, or for a hard link the path it shares a file with
    std::uint64_t size = 0; ///< regular files and hard links
    Content content;        ///< regular files and hard links
    std::string sha256;     ///< hex, regular files and hard links
    std::string md5;        ///< hex, regular files and hard links
    std::string origin;     ///< the package that shipped it, or k_generated / k_manifest_files
    /// For what distill generated (or the manifest added): what it is and what it was made
    /// from, as the SBOM and `distill inspect` tell it ("the Java truststore, from the CA
    /// certificates of ca-certificates"); empty for a package's entries.
    std::string reason;
    bool implicit = false; ///< a parent directory nobody listed (yet)
};

/// What the path policy and the setuid rule took out, for the build report.
struct Trimmed {
    std::uint64_t files = 0;
    std::uint64_t bytes = 0;
    std::uint64_t setuid_cleared = 0;
};

/// The image's filesystem as distill assembles it in memory: path (relative, "usr/bin/java")
/// to entry, sorted bytewise as the layer wants it. Package contents are data, never trusted:
/// every path is normalised and checked, and nothing here is ever written to the host.
class Tree {
public:
    struct Options {
        /// /bin, /sbin and /lib* live under /usr, with links in their place (whether a
        /// release has it is the distro's answer: distro::Distro::merged_usr()).
        bool merged_usr = true;
        PathPolicy policy;
    };

    explicit Tree(Options options);

    /// While one is alive, what put_file, put_symlink and put_directory make carries
    /// `reason` (Entry::reason).
    class Explaining {
    public:
        Explaining(Tree& tree, std::string reason);
        ~Explaining();
        Explaining(const Explaining&) = delete;
        Explaining& operator=(const Explaining&) = delete;
        Explaining(Explaining&&) = delete;
        Explaining& operator=(Explaining&&) = delete;

    private:
        Tree& m_tree;
        std::string m_previous;
    };

    /// Adds an unpacked package's entries (`record.contents`) and keeps the record, with the
    /// paths it shipped filled in (packages()). Refuses, with an UnsafeContentError naming the
    /// package and the path: paths that climb out of the root or are absolute, paths through a
    /// symlink, hard links to anything but an earlier file of the same package, device nodes,
    /// FIFOs and sockets. Two packages with different content at one path is an Error naming
    /// both. Drops what the path policy drops and the setuid/setgid bits it does not allow.
    void add_package(package::Record record);
    /// add_package() for contents without a record of their own (tests, tools): a record
    /// with this name and arch is made for them.
    void add_package(const std::string& name, const std::string& arch,
                     const UnpackedPackage& package);

    /// Puts a file that distill generated at `path`, replacing what is there (a package's
    /// version of it); parent directories are created as needed.
    void put_file(const std::string& path, std::string content, std::uint32_t mode = 0644,
                  std::uint32_t uid = 0, std::uint32_t gid = 0,
                  std::string_view origin = k_generated);
    /// Puts a local file from the manifest (read when the layer is written).
    void put_host_file(const std::string& path, const std::filesystem::path& source,
                       std::uint32_t mode, std::uint32_t uid, std::uint32_t gid);
    /// Puts a symlink, replacing what is there.
    void put_symlink(const std::string& path, const std::string& target,
                     std::string_view origin = k_generated);
    /// Makes sure a directory exists with this mode and owner.
    void put_directory(const std::string& path, std::uint32_t mode = 0755, std::uint32_t uid = 0,
                       std::uint32_t gid = 0, std::string_view origin = k_generated);
    /// Removes a path and, for a directory, everything below it.
    void remove(const std::string& path);

    /// Adds the merged-/usr links and drops directories that the path policy emptied. Call once,
    /// after every package and before writing the layer.
    void finish();

    [[nodiscard]] const std::map<std::string, Entry>& entries() const noexcept { return m_entries; }
    [[nodiscard]] const Entry* find(const std::string& path) const;
    /// The content packs that PackContent indexes.
    [[nodiscard]] const std::vector<std::filesystem::path>& packs() const noexcept {
        return m_packs;
    }
    /// The packages added, in order, with the paths each shipped.
    [[nodiscard]] const std::vector<package::Record>& packages() const noexcept {
        return m_packages;
    }
    [[nodiscard]] const Trimmed& trimmed() const noexcept { return m_trimmed; }

    /// Reads the bytes of a regular file (small generated files and tests; the layer streams).
    [[nodiscard]] std::string read(const std::string& path) const;

    /// `path` normalised as a package path: "./usr/bin/x" gives "usr/bin/x", the root gives "".
    /// Throws UnsafeContentError (naming `package`) for absolute paths and `..`.
    [[nodiscard]] static std::string normalise(std::string_view path, std::string_view package);

private:
    [[nodiscard]] std::string merge_usr(std::string path);
    void ensure_parents(const std::string& path, const std::string& package);
    void insert(const std::string& path, Entry entry);
    /// Puts `entry` at `path` in place of whatever is there, parents created as needed.
    void replace(const std::string& path, Entry entry);

    Options m_options;
    std::map<std::string, Entry> m_entries;
    std::vector<std::filesystem::path> m_packs;
    std::vector<package::Record> m_packages;
    std::vector<std::string> m_moved_to_usr; ///< top-level directories moved under /usr
    std::string m_reason;                    ///< see Explaining
    Trimmed m_trimmed;
};

} // namespace distill::unpack
