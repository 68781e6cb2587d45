#pragma once

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

// The narrow hook through which a distro fills the pool: libsolv's own handles. libsolv parses
// each distro's native index format itself (repo_add_debpackages, repo_add_apk, ...) far faster
// than a generic "add this solvable" API fed from C++ could, so a loader gets the raw pool and
// repository. Only lib/distill/resolve/solv/ and the distros' pool loaders include <solv/*.h>.
struct s_Pool;
struct s_Repo;

namespace distill::resolve::solv {

/// The key under which a loader stores a package's rank (an unsigned number) in the
/// repository's data: where a dependency names a virtual package, the solver prefers the
/// provider with the highest rank. 0 or absent: no rank.
inline constexpr const char* k_rank_key = "distill:rank";

/// The key under which a loader whose index gives no SHA-256 of a package file stores the
/// distro's own checksum of it (a string; package::Record::checksum).
inline constexpr const char* k_checksum_key = "distill:checksum";

/// A FILE* that is closed on destruction.
using File = std::unique_ptr<std::FILE, decltype(&std::fclose)>;

/// Opens `path` through libsolv's decompressing reader; the compression is told by the suffix
/// of `name` (the cache names files by hash, without a suffix). Throws naming the path.
[[nodiscard]] File open_decompressing(const std::filesystem::path& path, const std::string& name);

/// A distro's way into the pool (distro::Distro::index_loader()).
class IndexLoader {
public:
    virtual ~IndexLoader() = default;

    /// Gives a new pool the distro's semantics (libsolv's disttype: version comparison and
    /// dependency syntax); called once, before the architecture is set and anything is loaded.
    virtual void setup(s_Pool* pool) const = 0;

    /// Sets the architecture the pool installs for (after setup()): libsolv's own rule for
    /// the disttype by default (`arch` and the disttype's name for packages for every arch).
    virtual void set_arch(s_Pool* pool, const std::string& arch) const;

    /// Parses the index at `path` (compressed as the suffix of `served_as` says, or else of
    /// `path`) into `repo`, ranks included. Throws an Error naming the path when it cannot.
    virtual void load(s_Pool* pool, s_Repo* repo, const std::filesystem::path& path,
                      const std::string& served_as) const = 0;

    /// The form in which a version, as the distro writes it, goes into the pool. libsolv
    /// compares versions by its disttype's rules; a distro whose rules this libsolv lacks
    /// (Alpine's) maps its versions to a form those rules order the same way. Unchanged by
    /// default.
    [[nodiscard]] virtual std::string to_pool_version(std::string_view version) const {
        return std::string(version);
    }

    /// A version as the distro writes it, from its form in the pool (to_pool_version()).
    [[nodiscard]] virtual std::string from_pool_version(std::string_view evr) const {
        return std::string(evr);
    }

    /// The dependency a request stands for, in the pool's form: `name`, or `name` with
    /// `relation` (the distro's syntax; empty means "=") to `version` when that is not empty.
    /// Only "=" by default, the one relation a Debian request takes; throws for another.
    [[nodiscard]] virtual int request_dep(s_Pool* pool, const std::string& name,
                                          const std::string& relation,
                                          const std::string& version) const;

    /// Whether packages that supplement the installed ones are installed too: a distro whose
    /// loader expresses "install this once all of that is installed" (apk's install_if) as
    /// supplements says yes. Recommends and suggests never are: they are not part of a
    /// distroless closure.
    [[nodiscard]] virtual bool installs_supplements() const { return false; }

    /// Names the form in which what load() stores is cached ("deb-3"); it changes whenever
    /// that form does, so that old parsed indexes are not misread.
    [[nodiscard]] virtual std::string_view cache_format() const = 0;
};

} // namespace distill::resolve::solv
