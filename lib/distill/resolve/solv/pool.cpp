#include <distill/resolve/solv/pool.hpp>

extern "C" {
#include <solv/bitmap.h>
#include <solv/evr.h>
#include <solv/pool.h>
#include <solv/poolarch.h>
#include <solv/problems.h>
#include <solv/queue.h>
#include <solv/repo.h>
#include <solv/repo_solv.h>
#include <solv/repo_write.h>
#include <solv/repodata.h>
#include <solv/rules.h>
#include <solv/solv_xfopen.h>
#include <solv/solver.h>
#include <solv/testcase.h>
#include <solv/transaction.h>
}

#include <fmt/format.h>

// libsolv's C macros (MAPCLR, ISRELDEP, GETRELDEP, FOR_PROVIDES) mix int and unsigned and
// use C casts; they are checked code we cannot change, so their warnings are off in this file.
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wold-style-cast"

#include <algorithm>
#include <cstdio>
#include <fcntl.h>
#include <unistd.h>

#include <distill/core/cancel.hpp>
#include <distill/core/error.hpp>
#include <distill/core/fs.hpp>

namespace distill::resolve::solv {
namespace {

/// RAII over libsolv's Queue.
class Queue {
public:
    Queue() { queue_init(&m_queue); }
    ~Queue() { queue_free(&m_queue); }
    Queue(const Queue&) = delete;
    Queue& operator=(const Queue&) = delete;

    ::Queue* get() { return &m_queue; }
    void push(Id id) { queue_push(&m_queue, id); }
    void push2(Id a, Id b) { queue_push2(&m_queue, a, b); }
    [[nodiscard]] int size() const { return m_queue.count; }
    [[nodiscard]] Id operator[](int i) const { return m_queue.elements[i]; }

private:
    ::Queue m_queue{};
};

/// RAII over libsolv's Solver.
class Solver {
public:
    explicit Solver(::Pool* pool)
        : m_solver(solver_create(pool)) {}
    ~Solver() { solver_free(m_solver); }
    Solver(const Solver&) = delete;
    Solver& operator=(const Solver&) = delete;
    ::Solver* get() { return m_solver; }

private:
    ::Solver* m_solver;
};

/// RAII over libsolv's Transaction.
class Transaction {
public:
    explicit Transaction(::Solver* solver)
        : m_transaction(solver_create_transaction(solver)) {}
    ~Transaction() { transaction_free(m_transaction); }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ::Transaction* get() { return m_transaction; }

private:
    ::Transaction* m_transaction;
};

RuleKind kind_of(SolverRuleinfo info) {
    switch (info) {
    case SOLVER_RULE_PKG_NOTHING_PROVIDES_DEP:
        return RuleKind::nothing_provides;
    case SOLVER_RULE_PKG_REQUIRES:
        return RuleKind::needs_uninstallable;
    case SOLVER_RULE_PKG_CONFLICTS:
    case SOLVER_RULE_PKG_SELF_CONFLICT:
        return RuleKind::conflicts;
    case SOLVER_RULE_PKG_SAME_NAME:
        return RuleKind::same_name;
    case SOLVER_RULE_PKG_NOT_INSTALLABLE:
        return RuleKind::not_installable;
    case SOLVER_RULE_JOB_NOTHING_PROVIDES_DEP:
    case SOLVER_RULE_JOB_UNKNOWN_PACKAGE:
        return RuleKind::job_nothing_provides;
    case SOLVER_RULE_JOB:
        return RuleKind::job;
    default:
        return RuleKind::other;
    }
}

} // namespace

struct Pool::Impl {
    const IndexLoader* loader = nullptr;
    ::Pool* pool = nullptr;
    std::vector<::Repo*> repos;
    ::Repo* stub_repo = nullptr;
    ::Map considered{};
    bool has_considered = false;

    Impl() = default;
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    ~Impl() {
        if (pool != nullptr) {
            pool->considered = nullptr;
            pool_free(pool);
        }
        if (has_considered) {
            map_free(&considered);
        }
    }

    /// Makes `solvables` uninstallable: they leave the map of what the solver considers,
    /// which (re)starts as everything when `fresh` (the pool has grown since it was made).
    void hide(const std::vector<Id>& solvables, bool fresh) {
        if (has_considered && fresh) {
            map_free(&considered);
            has_considered = false;
        }
        if (!has_considered) {
            map_init(&considered, pool->nsolvables);
            map_setall(&considered);
            has_considered = true;
            pool->considered = &considered;
        }
        for (const Id p : solvables) {
            MAPCLR(&considered, p);
        }
    }

    ::Repo* repo(int index) const {
        if (index < 0 || static_cast<std::size_t>(index) >= repos.size()) {
            throw Error(fmt::format("internal error: no repository #{}", index));
        }
        return repos[static_cast<std::size_t>(index)];
    }

    int repo_index(const ::Repo* repo) const {
        for (std::size_t i = 0; i < repos.size(); ++i) {
            if (repos[i] == repo) {
                return static_cast<int>(i);
            }
        }
        return -1;
    }
};

File open_decompressing(const std::filesystem::path& path, const std::string& name) {
    core::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        throw Error(fmt::format("{}: cannot open: {}", path.string(), core::errno_text(errno)));
    }
    File file(solv_xfopen_fd(name.c_str(), fd.get(), "r"), &std::fclose);
    if (!file) {
        throw Error(fmt::format("{}: cannot open as {}", path.string(), name));
    }
    fd.release(); // the FILE owns it now
    return file;
}

void IndexLoader::set_arch(s_Pool* pool, const std::string& arch) const {
    pool_setarch(pool, arch.c_str());
}

int IndexLoader::request_dep(s_Pool* pool, const std::string& name, const std::string& relation,
                             const std::string& version) const {
    const Id id = pool_str2id(pool, name.c_str(), 1);
    if (version.empty()) {
        return id;
    }
    if (!relation.empty() && relation != "=") {
        throw Error(
            fmt::format("{}{}{}: a request takes an exact version only", name, relation, version));
    }
    return pool_rel2id(pool, id, pool_str2id(pool, to_pool_version(version).c_str(), 1), REL_EQ, 1);
}

Pool::Pool(const IndexLoader& loader, const std::string& arch)
    : m_impl(std::make_unique<Impl>()) {
    m_impl->loader = &loader;
    m_impl->pool = pool_create();
    loader.setup(m_impl->pool);
    loader.set_arch(m_impl->pool, arch);
}

Pool::~Pool() = default;
Pool::Pool(Pool&&) noexcept = default;

int Pool::add_repo(const std::string& name, int priority) {
    ::Repo* repo = repo_create(m_impl->pool, name.c_str());
    repo->priority = priority;
    m_impl->repos.push_back(repo);
    return static_cast<int>(m_impl->repos.size() - 1);
}

void Pool::load_index(int repo_index, const std::filesystem::path& index,
                      const std::string& served_as, const std::filesystem::path& solv_cache) {
    ::Repo* repo = m_impl->repo(repo_index);
    if (!solv_cache.empty() && std::filesystem::exists(solv_cache)) {
        File cached(std::fopen(solv_cache.c_str(), "r"), &std::fclose);
        if (cached && repo_add_solv(repo, cached.get(), 0) == 0) {
            return;
        }
        // An unreadable parsed form (another libsolv version, a torn disk) is rebuilt below.
        repo_empty(repo, 1);
    }

    m_impl->loader->load(m_impl->pool, repo, index, served_as);

    if (!solv_cache.empty()) {
        core::AtomicFile out(solv_cache);
        File stream(fdopen(dup(out.fd()), "w"), &std::fclose);
        if (!stream || repo_write(repo, stream.get()) != 0 || std::fflush(stream.get()) != 0) {
            // The parsed form is only a speed-up: failing to store it is not an error.
            return;
        }
        stream.reset();
        out.commit();
    }
}

void Pool::load_testtags(int repo_index, const std::filesystem::path& file) {
    File stream(std::fopen(file.c_str(), "r"), &std::fclose);
    if (!stream) {
        throw Error(fmt::format("{}: cannot open: {}", file.string(), core::errno_text(errno)));
    }
    if (testcase_add_testtags(m_impl->repo(repo_index), stream.get(), 0) != 0) {
        throw Error(fmt::format("{}: cannot parse: {}", file.string(), pool_errstr(m_impl->pool)));
    }
}

std::size_t Pool::stub_out(int stub_repo_index, const std::set<std::string>& names) {
    ::Pool* pool = m_impl->pool;
    ::Repo* stub_repo = m_impl->repo(stub_repo_index);
    m_impl->stub_repo = stub_repo;

    std::set<Id> name_ids;
    for (const auto& name : names) {
        if (const Id id = pool_str2id(pool, name.c_str(), 0); id != 0) {
            name_ids.insert(id);
        }
    }
    std::vector<Id> replaced;
    Repodata* data = repo_add_repodata(stub_repo, 0);
    const Id rank_key = pool_str2id(pool, k_rank_key, 1);
    const int original_count = pool->nsolvables;
    for (Id p = 2; p < original_count; ++p) {
        Solvable* s = pool->solvables + p;
        if (s->repo == nullptr || s->repo == stub_repo || !name_ids.contains(s->name)) {
            continue;
        }
        replaced.push_back(p);
        const Id stub_id = repo_add_solvable(stub_repo);
        // repo_add_solvable may move the solvables array: look both up again.
        Solvable* stub = pool->solvables + stub_id;
        const Solvable* real = pool->solvables + p;
        stub->name = real->name;
        stub->evr = real->evr;
        stub->arch = real->arch;
        // The stub stands for the package in choices between providers, so it keeps its rank.
        if (const auto rank = solvable_lookup_num(pool->solvables + p, rank_key, 0); rank > 0) {
            repodata_set_num(data, stub_id, rank_key, rank);
        }
        if (real->dep_provides != 0) {
            for (Id* dep = real->repo->idarraydata + real->dep_provides; *dep != 0; ++dep) {
                const Id provide = *dep;
                stub = pool->solvables + stub_id;
                stub->dep_provides = repo_addid_dep(stub_repo, stub->dep_provides, provide, 0);
            }
        }
    }
    repodata_internalize(data);
    repo_internalize(stub_repo);

    // The stubs are new solvables: the map starts again, sized for them.
    m_impl->hide(replaced, true);
    return replaced.size();
}

PreparedPool Pool::prepare() && {
    pool_addfileprovides(m_impl->pool);
    pool_createwhatprovides(m_impl->pool);
    return PreparedPool(std::move(m_impl));
}

PreparedPool::PreparedPool(std::unique_ptr<Pool::Impl> impl)
    : m_impl(std::move(impl)) {}
PreparedPool::~PreparedPool() = default;
PreparedPool::PreparedPool(PreparedPool&&) noexcept = default;

std::vector<Id> PreparedPool::named(const std::string& name) const {
    ::Pool* pool = m_impl->pool;
    std::vector<Id> result;
    const Id id = pool_str2id(pool, name.c_str(), 0);
    if (id == 0) {
        return result;
    }
    Id p = 0;
    Id pp = 0;
    FOR_PROVIDES(p, pp, id) {
        if (pool->solvables[p].name == id) {
            result.push_back(p);
        }
    }
    // FOR_PROVIDES lists installable solvables only; stubbed-out real packages are named too.
    for (Id q = 2; q < pool->nsolvables; ++q) {
        Solvable* s = pool->solvables + q;
        if (s->repo != nullptr && s->name == id && pool_installable(pool, s) == 0 &&
            s->repo != m_impl->stub_repo) {
            result.push_back(q);
        }
    }
    return result;
}

std::vector<Id> PreparedPool::providers(Id dep) const {
    std::vector<Id> result;
    ::Pool* pool = m_impl->pool;
    Id p = 0;
    Id pp = 0;
    FOR_PROVIDES(p, pp, dep) {
        result.push_back(p);
    }
    return result;
}

std::vector<Id> PreparedPool::providers(const std::string& name) const {
    const Id id = pool_str2id(m_impl->pool, name.c_str(), 0);
    return id == 0 ? std::vector<Id>{} : providers(id);
}

Id PreparedPool::request_dep(const std::string& name, const std::string& relation,
                             const std::string& version) const {
    return m_impl->loader->request_dep(m_impl->pool, name, relation, version);
}

bool PreparedPool::provides_versioned(Id p, const std::string& name) const {
    ::Pool* pool = m_impl->pool;
    const Solvable* s = pool->solvables + p;
    const Id id = pool_str2id(pool, name.c_str(), 0);
    if (id == 0 || s->dep_provides == 0) {
        return false;
    }
    for (const Id* dep = s->repo->idarraydata + s->dep_provides; *dep != 0; ++dep) {
        if (ISRELDEP(*dep)) {
            const Reldep* rd = GETRELDEP(pool, *dep);
            if (rd->name == id && rd->flags == REL_EQ) {
                return true;
            }
        }
    }
    return false;
}

bool PreparedPool::matches(Id p, Id dep) const {
    ::Pool* pool = m_impl->pool;
    Id q = 0;
    Id qq = 0;
    FOR_PROVIDES(q, qq, dep) {
        if (q == p) {
            return true;
        }
    }
    return false;
}

std::vector<std::string> PreparedPool::supplement_names(Id p) const {
    ::Pool* pool = m_impl->pool;
    const Solvable* s = pool->solvables + p;
    std::vector<std::string> names;
    if (s->dep_supplements == 0) {
        return names;
    }
    // Walks each condition's tree of "and", "or", "unless" and version relations to its names;
    // a stack bounds the walk by the tree's size.
    std::vector<Id> stack;
    for (const Id* dep = s->repo->idarraydata + s->dep_supplements; *dep != 0; ++dep) {
        stack.push_back(*dep);
    }
    while (!stack.empty()) {
        const Id dep = stack.back();
        stack.pop_back();
        if (!ISRELDEP(dep)) {
            names.emplace_back(pool_id2str(pool, dep));
            continue;
        }
        const Reldep* rd = GETRELDEP(pool, dep);
        if (rd->flags == REL_AND || rd->flags == REL_OR || rd->flags == REL_UNLESS ||
            rd->flags == REL_WITH) {
            stack.push_back(rd->name);
            if (rd->flags != REL_UNLESS) {
                stack.push_back(rd->evr);
            }
        } else {
            stack.push_back(rd->name);
        }
    }
    return names;
}

std::vector<Id> PreparedPool::solvables_of(int repo) const {
    std::vector<Id> result;
    ::Repo* r = m_impl->repo(repo);
    Id p = 0;
    Solvable* s = nullptr;
    FOR_REPO_SOLVABLES(r, p, s) {
        result.push_back(p);
    }
    return result;
}

void PreparedPool::hide(const std::vector<Id>& solvables) {
    if (!solvables.empty()) {
        m_impl->hide(solvables, false);
    }
}

bool PreparedPool::installable(Id p) const {
    return pool_installable(m_impl->pool, m_impl->pool->solvables + p) != 0;
}

bool PreparedPool::is_stub(Id p) const {
    return m_impl->stub_repo != nullptr && m_impl->pool->solvables[p].repo == m_impl->stub_repo;
}

SolvableInfo PreparedPool::info(Id p) const {
    ::Pool* pool = m_impl->pool;
    Solvable* s = pool->solvables + p;
    SolvableInfo info;
    info.name = pool_id2str(pool, s->name);
    info.evr = m_impl->loader->from_pool_version(pool_id2str(pool, s->evr));
    info.arch = pool_id2str(pool, s->arch);
    info.repo = m_impl->repo_index(s->repo);
    unsigned int medianr = 0;
    if (const char* location = solvable_lookup_location(s, &medianr)) {
        info.location = location;
    }
    Id type = 0;
    if (const char* checksum = solvable_lookup_checksum(s, SOLVABLE_CHECKSUM, &type);
        checksum != nullptr && type == REPOKEY_TYPE_SHA256) {
        info.sha256 = checksum;
    }
    if (const char* own = solvable_lookup_str(s, pool_str2id(pool, k_checksum_key, 1))) {
        info.checksum = own;
    }
    info.installed_size = solvable_lookup_num(s, SOLVABLE_INSTALLSIZE, 0);
    info.download_size = solvable_lookup_num(s, SOLVABLE_DOWNLOADSIZE, 0);
    const char* source = solvable_lookup_str(s, SOLVABLE_SOURCENAME);
    info.source_name = source != nullptr ? source : info.name;
    const char* summary = solvable_lookup_str(s, SOLVABLE_SUMMARY);
    info.summary = summary != nullptr ? summary : "";
    return info;
}

std::string PreparedPool::describe(Id p) const {
    const Solvable* s = m_impl->pool->solvables + p;
    return fmt::format("{} {} {}", pool_id2str(m_impl->pool, s->name),
                       m_impl->loader->from_pool_version(pool_id2str(m_impl->pool, s->evr)),
                       pool_id2str(m_impl->pool, s->arch));
}

std::string PreparedPool::dep_text(Id dep) const {
    ::Pool* pool = m_impl->pool;
    if (!ISRELDEP(dep)) {
        return pool_id2str(pool, dep);
    }
    const Reldep* rd = GETRELDEP(pool, dep);
    const auto version = [&] {
        return m_impl->loader->from_pool_version(pool_id2str(pool, rd->evr));
    };
    switch (rd->flags) {
    case REL_OR:
        return dep_text(rd->name) + " | " + dep_text(rd->evr);
    case REL_WITH:
        return dep_text(rd->name) + ", " + dep_text(rd->evr);
    case REL_MULTIARCH:
        return dep_text(rd->name) + ":" + pool_id2str(pool, rd->evr);
    case REL_LT:
        return fmt::format("{} (<< {})", dep_text(rd->name), version());
    case REL_LT | REL_EQ:
        return fmt::format("{} (<= {})", dep_text(rd->name), version());
    case REL_EQ:
        return fmt::format("{} (= {})", dep_text(rd->name), version());
    case REL_GT | REL_EQ:
        return fmt::format("{} (>= {})", dep_text(rd->name), version());
    case REL_GT:
        return fmt::format("{} (>> {})", dep_text(rd->name), version());
    default:
        return pool_dep2str(pool, dep);
    }
}

std::vector<Id> PreparedPool::requires_of(Id p) const {
    const Solvable* s = m_impl->pool->solvables + p;
    std::vector<Id> result;
    if (s->dep_requires == 0) {
        return result;
    }
    for (const Id* dep = s->repo->idarraydata + s->dep_requires; *dep != 0; ++dep) {
        if (*dep != SOLVABLE_PREREQMARKER) {
            result.push_back(*dep);
        }
    }
    return result;
}

std::vector<std::string> Pool::provider_names(const std::string& name) const {
    ::Pool* pool = m_impl->pool;
    const Id id = pool_str2id(pool, name.c_str(), 0);
    std::set<std::string> found;
    if (id == 0) {
        return {};
    }
    for (Id p = 2; p < pool->nsolvables; ++p) {
        const Solvable* s = pool->solvables + p;
        if (s->repo == nullptr || s->dep_provides == 0) {
            continue;
        }
        for (const Id* dep = s->repo->idarraydata + s->dep_provides; *dep != 0; ++dep) {
            const Id provided = ISRELDEP(*dep) ? GETRELDEP(pool, *dep)->name : *dep;
            if (provided == id) {
                found.insert(pool_id2str(pool, s->name));
                break;
            }
        }
    }
    return {found.begin(), found.end()};
}

std::vector<std::string> Pool::all_names() const {
    ::Pool* pool = m_impl->pool;
    std::set<Id> ids;
    for (Id p = 2; p < pool->nsolvables; ++p) {
        if (pool->solvables[p].repo != nullptr) {
            ids.insert(pool->solvables[p].name);
        }
    }
    std::vector<std::string> names;
    names.reserve(ids.size());
    for (const Id id : ids) {
        names.emplace_back(pool_id2str(pool, id));
    }
    std::sort(names.begin(), names.end());
    return names;
}

std::string PreparedPool::dep_name(Id dep) const {
    while (ISRELDEP(dep)) {
        dep = GETRELDEP(m_impl->pool, dep)->name;
    }
    return pool_id2str(m_impl->pool, dep);
}

int PreparedPool::compare_versions(Id a, Id b) const {
    ::Pool* pool = m_impl->pool;
    return pool_evrcmp(pool, pool->solvables[a].evr, pool->solvables[b].evr, EVRCMP_COMPARE);
}

int PreparedPool::rank(Id p) const {
    const Id key = pool_str2id(m_impl->pool, k_rank_key, 0);
    return key == 0 ? 0
                    : static_cast<int>(solvable_lookup_num(m_impl->pool->solvables + p, key, 0));
}

std::vector<Id> PreparedPool::alternatives(Id dep) const {
    std::vector<Id> result;
    while (ISRELDEP(dep)) {
        const Reldep* rd = GETRELDEP(m_impl->pool, dep);
        if (rd->flags != REL_OR) {
            break;
        }
        result.push_back(rd->name);
        dep = rd->evr;
    }
    result.push_back(dep);
    return result;
}

Solution PreparedPool::solve(const std::vector<std::vector<Id>>& wanted,
                             const std::vector<Id>& favored,
                             const std::filesystem::path& debug_dir) const {
    ::Pool* pool = m_impl->pool;
    Queue jobs;
    for (const auto& choices : wanted) {
        if (choices.empty()) {
            continue; // a request other requests must satisfy (checked by the caller)
        }
        Queue candidates;
        for (const Id p : choices) {
            candidates.push(p);
        }
        jobs.push2(SOLVER_INSTALL | SOLVER_SOLVABLE_ONE_OF,
                   pool_queuetowhatprovides(pool, candidates.get()));
    }
    for (const Id p : favored) {
        jobs.push2(SOLVER_FAVOR | SOLVER_SOLVABLE, p);
    }

    Solver solver(pool);
    // Recommends and Suggests are not part of a distroless closure; supplements are, where a
    // distro states install_if with them (and then its packages recommend nothing).
    solver_set_flag(solver.get(), SOLVER_FLAG_IGNORE_RECOMMENDED,
                    m_impl->loader->installs_supplements() ? 0 : 1);
    // libsolv's solver offers no way to stop it: cancellation is noticed before and after.
    core::throw_if_cancelled();
    const int problem_count = solver_solve(solver.get(), jobs.get());
    core::throw_if_cancelled();
    if (!debug_dir.empty()) {
        std::filesystem::create_directories(debug_dir);
        if (testcase_write(solver.get(), debug_dir.c_str(),
                           TESTCASE_RESULT_TRANSACTION | TESTCASE_RESULT_PROBLEMS, nullptr,
                           nullptr) == 0) {
            throw Error(fmt::format("{}: cannot write the solver testcase: {}", debug_dir.string(),
                                    pool_errstr(pool)));
        }
    }

    Solution solution;
    for (Id problem = 1; problem <= problem_count; ++problem) {
        Problem entry;
        entry.summary = solver_problem2str(solver.get(), problem);
        Queue rules;
        solver_findallproblemrules(solver.get(), problem, rules.get());
        for (int i = 0; i < rules.size(); ++i) {
            Id source = 0;
            Id target = 0;
            Id dep = 0;
            const SolverRuleinfo type =
                solver_ruleinfo(solver.get(), rules[i], &source, &target, &dep);
            entry.rules.push_back(
                ProblemRule{kind_of(type), source, target, dep,
                            solver_problemruleinfo2str(solver.get(), type, source, target, dep)});
        }
        solution.problems.push_back(std::move(entry));
    }
    if (problem_count > 0) {
        return solution;
    }

    Transaction transaction(solver.get());
    transaction_order(transaction.get(), 0);
    const ::Queue& steps = transaction.get()->steps;
    for (int i = 0; i < steps.count; ++i) {
        solution.install_order.push_back(steps.elements[i]);
    }
    return solution;
}

} // namespace distill::resolve::solv
