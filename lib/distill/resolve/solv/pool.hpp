#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <distill/resolve/solv/loader.hpp>

// libsolv's handles are forward-declared (loader.hpp): only lib/distill/resolve/solv/*.cpp and
// the distros' index loaders include <solv/*.h>.

namespace distill::resolve::solv {

/// libsolv's handle for a solvable, a dependency or a string.
using Id = int;

/// Plain data about one solvable (a package version in a repository).
struct SolvableInfo {
    std::string name;
    std::string evr;
    std::string arch;
    int repo = -1;                    ///< index returned by Pool::add_repo
    std::string location;             ///< Filename from the index (relative to the repository)
    std::string sha256;               ///< empty when the index gave none
    std::string checksum;             ///< the distro's own checksum (k_checksum_key), if any
    std::uint64_t installed_size = 0; ///< bytes
    std::uint64_t download_size = 0;  ///< bytes
    std::string source_name;          ///< the source package
    std::string summary;              ///< the first line of the description
};

/// The pool while it is being filled: repositories are added and loaded, excluded packages
/// replaced by stubs. It cannot be queried or solved until prepare() turns it into a
/// PreparedPool (libsolv needs its provides index built first).
class Pool {
public:
    /// A pool with the semantics `loader` gives it (its distro's) for `arch`; the loader reads
    /// the distro's indexes into it (load_index()) and must outlive it.
    Pool(const IndexLoader& loader, const std::string& arch);
    ~Pool();
    Pool(Pool&&) noexcept;
    Pool& operator=(Pool&&) = delete;
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    /// Adds an empty repository; higher `priority` wins over higher versions elsewhere.
    /// Returns its index for later calls and for SolvableInfo::repo.
    int add_repo(const std::string& name, int priority = 0);

    /// Loads one of the distro's indexes (plain, .gz, .xz, .bz2 or .zst, as the suffix of
    /// `served_as` says, or else of `index`) into repository `repo` with the pool's loader.
    /// When `solv_cache` is given, reads the parsed form from there if present, else parses the
    /// index and writes the parsed form there (atomically) for next time.
    void load_index(int repo, const std::filesystem::path& index, const std::string& served_as = {},
                    const std::filesystem::path& solv_cache = {});

    /// Loads a libsolv testtags file (tests and `--solver-debug` replays).
    void load_testtags(int repo, const std::filesystem::path& file);

    /// Replaces every package named in `names` by a stub in repository `stub_repo`: same name,
    /// version, arch and provides, but no dependencies and no content. The real packages can
    /// no longer be installed, so dependencies on them are satisfied without installing them.
    /// Returns the number of stubs added.
    std::size_t stub_out(int stub_repo, const std::set<std::string>& names);

    /// Every package name in the pool, sorted.
    [[nodiscard]] std::vector<std::string> all_names() const;

    /// The names of the packages that provide `name` (any version of it), sorted; a scan of the
    /// whole pool, which has no provides index yet.
    [[nodiscard]] std::vector<std::string> provider_names(const std::string& name) const;

    /// Builds the provides index and hands the pool over for queries and solving.
    [[nodiscard]] class PreparedPool prepare() &&;

private:
    friend class PreparedPool;
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

/// The kinds of reasons libsolv gives for a problem, in the terms the resolver explains.
enum class RuleKind {
    nothing_provides,     ///< source needs dep, which no package provides
    needs_uninstallable,  ///< source needs dep, but no provider of it can be installed
    conflicts,            ///< source conflicts with target over dep
    same_name,            ///< source and target are two versions of one package
    not_installable,      ///< source cannot be installed at all (wrong arch, ...)
    job_nothing_provides, ///< the request names something no package provides
    job,                  ///< a requested package cannot be installed
    other,
};

/// One rule behind an unsolvable problem. Ids are 0 when not applicable.
struct ProblemRule {
    RuleKind kind = RuleKind::other;
    Id source = 0;
    Id target = 0;
    Id dep = 0;
    std::string libsolv_text; ///< libsolv's own wording, for the cases we do not rephrase
};

/// One unsolvable problem: libsolv's summary and the rules that make it up.
struct Problem {
    std::string summary;
    std::vector<ProblemRule> rules;
};

/// The outcome of a solver run.
struct Solution {
    std::vector<Problem> problems; ///< empty when solved
    std::vector<Id> install_order; ///< packages to install, dependencies first
};

/// A pool whose provides index is built: it answers queries and solves.
class PreparedPool {
public:
    ~PreparedPool();
    PreparedPool(PreparedPool&&) noexcept;
    PreparedPool& operator=(PreparedPool&&) = delete;
    PreparedPool(const PreparedPool&) = delete;
    PreparedPool& operator=(const PreparedPool&) = delete;

    /// Solvables (installable or not) whose name is exactly `name`.
    [[nodiscard]] std::vector<Id> named(const std::string& name) const;
    /// Installable solvables that provide `dep` (a name, possibly with a version relation).
    [[nodiscard]] std::vector<Id> providers(Id dep) const;
    /// Installable solvables that provide the name `name` (0 results if it is unknown).
    [[nodiscard]] std::vector<Id> providers(const std::string& name) const;
    /// The dependency a request `name RELATION version` stands for (IndexLoader::request_dep()).
    [[nodiscard]] Id request_dep(const std::string& name, const std::string& relation,
                                 const std::string& version) const;
    /// Whether `p` provides `name` with a version ("so:libz.so.1=1.3.1"), not just the name.
    [[nodiscard]] bool provides_versioned(Id p, const std::string& name) const;
    /// Whether `p` (by its name or what it provides) satisfies `dep`.
    [[nodiscard]] bool matches(Id p, Id dep) const;
    /// The names the conditions under which `p` supplements others mention (apk's install_if),
    /// negated ones left out.
    [[nodiscard]] std::vector<std::string> supplement_names(Id p) const;
    /// The solvables of repository `repo` (an index returned by Pool::add_repo).
    [[nodiscard]] std::vector<Id> solvables_of(int repo) const;
    /// Makes `solvables` uninstallable from now on (pinned repositories' packages that no
    /// request allows).
    void hide(const std::vector<Id>& solvables);
    /// Whether the solver may install `p` (it is not replaced by a stub).
    [[nodiscard]] bool installable(Id p) const;
    /// Whether `p` is an exclusion stub.
    [[nodiscard]] bool is_stub(Id p) const;
    /// Plain data about `p`.
    [[nodiscard]] SolvableInfo info(Id p) const;
    /// "name version arch" for messages.
    [[nodiscard]] std::string describe(Id p) const;
    /// The text of a dependency, as Debian's control files write one.
    [[nodiscard]] std::string dep_text(Id dep) const;
    /// Depends and Pre-Depends of `p` (alternatives are one dependency).
    [[nodiscard]] std::vector<Id> requires_of(Id p) const;
    /// The package name a dependency is about ("libc6" for "libc6 (>= 2.34)", "python3" for
    /// "python3:any").
    [[nodiscard]] std::string dep_name(Id dep) const;
    /// Orders two solvables of one name by version as the solver does (negative, 0, positive).
    [[nodiscard]] int compare_versions(Id a, Id b) const;
    /// The rank the loader gave `p` (k_rank_key): higher wins among providers; 0 when none.
    [[nodiscard]] int rank(Id p) const;
    /// The alternatives of a dependency "a | b | c", in the order written ({dep} if none).
    [[nodiscard]] std::vector<Id> alternatives(Id dep) const;

    /// Solves "install each of `wanted`" (each entry: the acceptable solvables for one
    /// request), ignoring Recommends and Suggests; where the solver has a choice, `favored`
    /// solvables win. When `debug_dir` is given, writes a libsolv testcase there.
    [[nodiscard]] Solution solve(const std::vector<std::vector<Id>>& wanted,
                                 const std::vector<Id>& favored = {},
                                 const std::filesystem::path& debug_dir = {}) const;

private:
    friend class Pool;
    explicit PreparedPool(std::unique_ptr<Pool::Impl> impl);
    std::unique_ptr<Pool::Impl> m_impl;
};

} // namespace distill::resolve::solv
