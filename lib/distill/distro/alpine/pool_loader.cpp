#include <optional>

#include <distill/distro/alpine/pool_loader.hpp>

extern "C" {
#include <solv/pool.h>
#include <solv/poolarch.h>
#include <solv/repo.h>
#include <solv/repodata.h>
}

#include <fmt/format.h>

// libsolv's macros mix int and unsigned and use C casts; they are checked code we cannot
// change, so their warnings are off in this file.
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wold-style-cast"

#include <distill/core/cancel.hpp>
#include <distill/core/error.hpp>
#include <distill/core/fs.hpp>
#include <distill/core/text.hpp>
#include <distill/distro/alpine/alpine.hpp>
#include <distill/distro/alpine/apkindex.hpp>
#include <distill/distro/alpine/version.hpp>
#include <distill/distro/arch.hpp>

namespace distill::distro::alpine {
namespace {

// Alpine's largest index (community) is under 2 MB compressed.
constexpr std::uint64_t k_max_index = std::uint64_t{64} << 20U;

/// Turns apk dependency tokens into libsolv dependencies.
class Deps {
public:
    explicit Deps(::Pool* pool)
        : m_pool(pool) {}

    /// The dependency `token` names, or nothing for a token apk-tools 2.14 (which makes and
    /// reads Alpine's indexes up to 3.22) would drop too: a malformed one, or one whose version
    /// apk-tools 3's grammar refuses (`pc:librtmp=v2.4`), which distill cannot order.
    [[nodiscard]] static std::optional<Dependency> parse(std::string_view token) {
        auto dependency = parse_dependency(token);
        if (!dependency || !dependency->tag.empty() ||
            (!dependency->version.empty() && dependency->op != Op::checksum &&
             !is_valid_version(dependency->version))) {
            return std::nullopt;
        }
        return dependency;
    }

    /// The pool's form of `dependency` (without its `!`).
    [[nodiscard]] Id id(const Dependency& dependency) const {
        const Id name = pool_str2id(m_pool, dependency.name.c_str(), 1);
        const auto rel = [&](const std::string& version, int flags) {
            return pool_rel2id(m_pool, name, pool_str2id(m_pool, version.c_str(), 1), flags, 1);
        };
        switch (dependency.op) {
        case Op::any:
            return name;
        case Op::equal:
            return rel(sortable_version(dependency.version), REL_EQ);
        case Op::less:
            return rel(sortable_version(dependency.version), REL_LT);
        case Op::less_equal:
            return rel(sortable_version(dependency.version), REL_LT | REL_EQ);
        case Op::greater:
            return rel(sortable_version(dependency.version), REL_GT);
        case Op::greater_equal:
            return rel(sortable_version(dependency.version), REL_GT | REL_EQ);
        case Op::fuzzy: {
            // `~1.2`: any version that starts with 1.2, token by token: a range in the
            // sortable form.
            const auto [low, high] = fuzzy_bounds(dependency.version);
            return pool_rel2id(m_pool, rel(low, REL_GT | REL_EQ), rel(high, REL_LT), REL_WITH, 1);
        }
        case Op::fuzzy_less_equal:
            return rel(fuzzy_bounds(dependency.version).second, REL_LT);
        case Op::fuzzy_greater_equal:
            return rel(fuzzy_bounds(dependency.version).first, REL_GT | REL_EQ);
        case Op::checksum:
            // `name><Q1...` names one build of a package by its checksum: the pool knows
            // packages by version, so any version of the name fits here, and the checksum
            // is what fetch and the reader then hold the file to.
            return name;
        }
        return name;
    }

private:
    ::Pool* m_pool;
};

/// The APKINDEX text of the index at `path`: an APKINDEX.tar.gz as repositories serve it, or
/// (served as "APKINDEX") the bare text, as apk-tools' solver tests keep their repositories.
std::string index_text(const std::filesystem::path& path, const std::string& origin) {
    std::error_code error;
    if (const auto size = std::filesystem::file_size(path, error); !error && size > k_max_index) {
        throw VerificationError(
            fmt::format("{}: {} bytes; no Alpine index is this large", origin, size));
    }
    auto bytes = core::read_file(path);
    if (origin.ends_with("APKINDEX")) {
        return bytes;
    }
    return read_index_archive(bytes, origin).apkindex;
}

} // namespace

void PoolLoader::setup(s_Pool* pool) const {
    // Versions go in as Debian-ordered strings (sortable_version()), so the pool compares them
    // as dpkg does.
    if (pool_setdisttype(pool, DISTTYPE_DEB) < 0) {
        throw Error("this libsolv was built without Debian support");
    }
}

void PoolLoader::set_arch(s_Pool* pool, const std::string& arch) const {
    // Alpine calls packages for every architecture "noarch" (Debian "all").
    pool_setarchpolicy(pool, (arch + ":noarch").c_str());
}

void PoolLoader::load(s_Pool* pool, s_Repo* repo, const std::filesystem::path& path,
                      const std::string& served_as) const {
    const std::string origin = served_as.empty() ? path.string() : served_as;
    const auto index = parse_index(index_text(path, origin), origin + ": APKINDEX");
    const Deps deps(pool);
    const auto& alpine = distro();

    Repodata* data = repo_add_repodata(repo, 0);
    const Id rank_key = pool_str2id(pool, resolve::solv::k_rank_key, 1);
    const Id checksum_key = pool_str2id(pool, resolve::solv::k_checksum_key, 1);
    for (const auto& entry : index.packages) {
        core::throw_if_cancelled();
        // apk-tools 2.14 (which makes Alpine's indexes) takes a few versions apk-tools 3's
        // grammar refuses ("0.99f7-r2"); distill cannot order them, so the package stays out.
        if (!is_valid_version(entry.version)) {
            continue;
        }
        // The index is signed, but its names and versions become cache file names and
        // database paths: one that breaks apk's grammar is refused before anything uses it.
        const auto arch = entry.arch.empty() ? std::string("noarch") : entry.arch;
        // apk keeps a package of an architecture it does not know as uninstallable (apk-tools'
        // solver test basic19) instead of refusing the index, which would lose every other
        // package. It can never be installed here, so it stays out of the pool, and its arch
        // never becomes a file name.
        if (arch != "noarch" && find_arch(manifest::Distro::alpine, arch) == nullptr) {
            continue;
        }
        if (const auto problem = alpine.identity_problem(entry.name, entry.version, arch)) {
            throw VerificationError(fmt::format("{}: line {}: {}", origin, entry.line, *problem));
        }
        const Id p = repo_add_solvable(repo);
        Solvable* s = pool->solvables + p;
        s->name = pool_str2id(pool, entry.name.c_str(), 1);
        s->evr = pool_str2id(pool, sortable_version(entry.version).c_str(), 1);
        s->arch = pool_str2id(pool, arch.c_str(), 1);
        s->dep_provides =
            repo_addid_dep(repo, s->dep_provides, pool_rel2id(pool, s->name, s->evr, REL_EQ, 1), 0);
        for (const auto& token : entry.provides) {
            // apk provides a name, or a name at one version.
            if (const auto provide = Deps::parse(token);
                provide && !provide->conflict &&
                (provide->op == Op::any || provide->op == Op::equal)) {
                s->dep_provides = repo_addid_dep(repo, s->dep_provides, deps.id(*provide), 0);
            }
        }
        for (const auto& token : entry.depends) {
            // A repository tag belongs in a world file, never in an index: apk takes the
            // package as broken and will not install it (apk-tools' solver test error11), so
            // it needs a name nothing can provide (a pool name never holds '@').
            if (const auto tagged = parse_dependency(token); tagged && !tagged->tag.empty()) {
                s->dep_requires =
                    repo_addid_dep(repo, s->dep_requires, pool_str2id(pool, token.c_str(), 1), 0);
                continue;
            }
            if (const auto dependency = Deps::parse(token); dependency && dependency->conflict) {
                s->dep_conflicts = repo_addid_dep(repo, s->dep_conflicts, deps.id(*dependency), 0);
            } else if (dependency) {
                s->dep_requires = repo_addid_dep(repo, s->dep_requires, deps.id(*dependency), 0);
            }
        }
        // install_if: installed once all of its conditions are, and none of its `!name`
        // ones; libsolv's supplements with the conditions joined by "and" and "unless".
        Id condition = 0;
        std::vector<Id> unless;
        for (const auto& token : entry.install_if) {
            if (const auto dependency = Deps::parse(token); dependency && dependency->conflict) {
                unless.push_back(deps.id(*dependency));
            } else if (dependency) {
                const Id id = deps.id(*dependency);
                condition = condition == 0 ? id : pool_rel2id(pool, condition, id, REL_AND, 1);
            }
        }
        for (const Id id : unless) {
            if (condition != 0) {
                condition = pool_rel2id(pool, condition, id, REL_UNLESS, 1);
            }
        }
        if (condition != 0) {
            s->dep_supplements = repo_addid_dep(repo, s->dep_supplements, condition, 0);
        }
        const std::string file = fmt::format("{}-{}.apk", entry.name, entry.version);
        repodata_set_location(data, p, 0, nullptr, file.c_str());
        repodata_set_num(data, p, SOLVABLE_DOWNLOADSIZE, entry.size);
        repodata_set_num(data, p, SOLVABLE_INSTALLSIZE, entry.installed_size);
        if (!entry.origin.empty()) {
            repodata_set_str(data, p, SOLVABLE_SOURCENAME, entry.origin.c_str());
        }
        if (!entry.description.empty()) {
            repodata_set_str(data, p, SOLVABLE_SUMMARY, entry.description.c_str());
        }
        repodata_set_str(data, p, checksum_key, entry.checksum.c_str());
        if (entry.provider_priority && *entry.provider_priority > 0) {
            repodata_set_num(data, p, rank_key, *entry.provider_priority);
        }
    }
    repodata_internalize(data);
}

int PoolLoader::request_dep(s_Pool* pool, const std::string& name, const std::string& relation,
                            const std::string& version) const {
    Dependency dependency;
    dependency.name = name;
    if (!version.empty()) {
        const auto op = relation.empty() ? std::optional(Op::equal) : parse_operator(relation);
        if (!op || *op == Op::checksum || !is_valid_version(version)) {
            throw Error(
                fmt::format("{}{}{}: not a version relation apk takes", name, relation, version));
        }
        dependency.op = *op;
        dependency.version = version;
    }
    return Deps(pool).id(dependency);
}

std::string PoolLoader::to_pool_version(std::string_view version) const {
    return sortable_version(version);
}

std::string PoolLoader::from_pool_version(std::string_view evr) const {
    return from_sortable_version(evr);
}

std::string_view PoolLoader::cache_format() const {
    // Bumped whenever what load() stores changes.
    return "apk-1";
}

} // namespace distill::distro::alpine
