#include <algorithm>
#include <deque>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <variant>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <distill/core/text.hpp>
#include <distill/distro/distro.hpp>
#include <distill/distro/facts.hpp>
#include <distill/resolve/resolve.hpp>
#include <distill/resolve/solv/pool.hpp>

namespace distill::resolve {
namespace {

using solv::Id;

std::string name_of(const solv::PreparedPool& pool, Id p) {
    return pool.info(p).name;
}

std::string short_form(const solv::PreparedPool& pool, Id p) {
    const auto info = pool.info(p);
    return fmt::format("{} {}", info.name, info.evr);
}

/// Loads one input into repository `repo` of the pool, through the parsed-index cache.
void load(solv::Pool& pool, int repo, const RepoInput& input, const solv::IndexLoader& loader,
          const Options& options) {
    switch (input.format) {
    case IndexFormat::native: {
        std::filesystem::path cached;
        if (options.cache != nullptr && !input.sha256.empty()) {
            cached = options.cache->derived_path(
                "solv", fmt::format("{}-{}.solv", input.sha256, loader.cache_format()));
        }
        pool.load_index(repo, input.path, input.served_as, cached);
        break;
    }
    case IndexFormat::testtags:
        pool.load_testtags(repo, input.path);
        break;
    }
}

/// What candidates_for() needs besides the request.
struct RequestScope {
    const std::vector<std::string>& all_names;
    const std::vector<RepoInput>& inputs;
    const std::vector<std::string>& repo_tags; ///< by repository index; "" for untagged
    bool provided_names = false;               ///< requests may name what packages provide (Facts)

    [[nodiscard]] const std::string& tag_of(const solv::PreparedPool& pool, Id p) const {
        static const std::string none;
        const int repo = pool.info(p).repo;
        return repo >= 0 && static_cast<std::size_t>(repo) < repo_tags.size()
                   ? repo_tags[static_cast<std::size_t>(repo)]
                   : none;
    }
};

/// The request as the manifest writes it: name[@tag][relation version].
std::string request_text(const manifest::PackageRequest& request) {
    return fmt::format("{}{}{}{}{}", request.name, request.tag.empty() ? "" : "@", request.tag,
                       request.version.empty()
                           ? std::string()
                           : (request.relation.empty() ? std::string("=") : request.relation),
                       request.version);
}

/// How the candidates of a request are to be chosen among.
enum class Choice {
    named,     ///< packages of the requested name: the solver picks
    provided,  ///< providers of a provided name: one the other requests bring in, else the
               ///< highest priority
    by_others, ///< unranked providers: the other requests must bring one in
};

/// The packages that can satisfy one request, and how to choose among them.
struct Candidates {
    std::vector<Id> ids;
    Choice choice = Choice::named;
};

/// The installable, non-stub packages that can satisfy one request, or a problem saying why
/// there are none.
std::variant<Candidates, Problem> candidates_for(const solv::PreparedPool& pool,
                                                 const manifest::PackageRequest& request,
                                                 const RequestScope& scope) {
    Choice choice = Choice::named;
    std::vector<Id> named;
    for (const Id p : pool.named(request.name)) {
        if (pool.installable(p) && !pool.is_stub(p)) {
            named.push_back(p);
        }
    }
    const std::string where = request.where.line > 0 ? request.where.str() + ": " : std::string();
    std::vector<std::string> providers;
    for (const Id p : pool.providers(request.name)) {
        if (!pool.is_stub(p)) {
            providers.push_back(name_of(pool, p));
        }
    }
    std::sort(providers.begin(), providers.end());
    providers.erase(std::unique(providers.begin(), providers.end()), providers.end());
    // A provided name (apk's cmd:, so:, /bin/sh ...) is asked for by what provides it. As
    // in apk, the solver may choose a provider for it only when the provider gives the name a
    // version or a priority (k:); a name that only unranked packages provide must be provided
    // by what the other requests install (Choice::by_others).
    std::vector<Id> unranked;
    if (named.empty() && scope.provided_names) {
        for (const Id p : pool.providers(request.name)) {
            if (!pool.installable(p) || pool.is_stub(p)) {
                continue;
            }
            if (pool.rank(p) == 0 && !pool.provides_versioned(p, request.name)) {
                unranked.push_back(p);
            } else {
                named.push_back(p);
            }
        }
        choice = Choice::provided;
        if (named.empty()) {
            named = std::move(unranked);
            choice = Choice::by_others;
        }
    }
    if (named.empty()) {
        if (!providers.empty()) {
            return Problem{
                scope.provided_names
                    ? fmt::format("{}{} is provided only by packages the exclusion policy keeps "
                                  "out: {}; ask for one of them by name to let it in",
                                  where, request.name, fmt::join(providers, ", "))
                    : fmt::format("{}{} is a virtual package; ask for one of the packages that "
                                  "provide it: {}",
                                  where, request.name, fmt::join(providers, ", ")),
                {},
                {},
                {}};
        }
        std::vector<std::string> labels;
        labels.reserve(scope.inputs.size());
        for (const auto& input : scope.inputs) {
            labels.push_back(input.label);
        }
        Problem problem{fmt::format("{}no package named {} in {}", where, request.name,
                                    labels.empty() ? std::string("any source")
                                                   : fmt::format("{}", fmt::join(labels, ", "))),
                        {},
                        request.name,
                        {}};
        if (const auto close = core::closest_matches(request.name, scope.all_names);
            !close.empty()) {
            problem.details.push_back(fmt::format("did you mean {}?", fmt::join(close, " or ")));
        }
        return problem;
    }
    // A pinned repository offers its packages only to requests naming its tag, and a request
    // naming a tag takes them from there only (apk's `name@tag`).
    std::vector<Id> in_tag;
    std::set<std::string> other_tags;
    for (const Id p : named) {
        const auto& tag = scope.tag_of(pool, p);
        if (tag == request.tag) {
            in_tag.push_back(p);
        } else {
            other_tags.insert(tag.empty() ? std::string("(untagged)") : "@" + tag);
        }
    }
    if (in_tag.empty()) {
        if (request.tag.empty()) {
            return Problem{fmt::format("{}{} is only in the pinned repositories {}; ask for "
                                       "{}@TAG to take it from one",
                                       where, request.name, fmt::join(other_tags, ", "),
                                       request.name),
                           {},
                           {},
                           {}};
        }
        return Problem{fmt::format("{}no package named {} in the sources tagged {} (it is in {})",
                                   where, request.name, request.tag, fmt::join(other_tags, ", ")),
                       {},
                       {},
                       {}};
    }
    if (request.version.empty()) {
        return Candidates{std::move(in_tag), choice};
    }
    std::vector<Id> chosen;
    std::vector<std::string> available;
    const bool exact =
        choice == Choice::named && (request.relation.empty() || request.relation == "=");
    const Id dep = exact ? 0 : pool.request_dep(request.name, request.relation, request.version);
    for (const Id p : in_tag) {
        const auto evr = pool.info(p).evr;
        if (exact ? evr == request.version : pool.matches(p, dep)) {
            chosen.push_back(p);
        }
        available.push_back(evr);
    }
    if (chosen.empty()) {
        std::sort(available.begin(), available.end());
        available.erase(std::unique(available.begin(), available.end()), available.end());
        return Problem{
            exact ? fmt::format("{}{} has no version {}; available: {}", where, request.name,
                                request.version, fmt::join(available, ", "))
                  : fmt::format("{}no version of {} satisfies {}; available: {}", where,
                                request.name, request_text(request), fmt::join(available, ", ")),
            {},
            {},
            {}};
    }
    return Candidates{std::move(chosen), choice};
}

/// The packages of pinned repositories that nothing allows, to be hidden from the solver: a
/// package of a repository tagged T is allowed when a request names T and takes it, when an
/// allowed package of T needs it, or when its install_if names an allowed package of T (apk's
/// pinning, inherited by what a pinned package pulls in).
std::vector<Id> not_allowed(const solv::PreparedPool& pool, const RequestScope& scope,
                            const std::vector<manifest::PackageRequest>& requests,
                            const std::vector<std::vector<Id>>& wanted) {
    std::vector<Id> tagged;
    for (std::size_t repo = 0; repo < scope.repo_tags.size(); ++repo) {
        if (!scope.repo_tags[repo].empty()) {
            const auto solvables = pool.solvables_of(static_cast<int>(repo));
            tagged.insert(tagged.end(), solvables.begin(), solvables.end());
        }
    }
    if (tagged.empty()) {
        return {};
    }
    std::set<Id> allowed;
    std::deque<Id> queue;
    const auto allow = [&](Id p) {
        if (!scope.tag_of(pool, p).empty() && allowed.insert(p).second) {
            queue.push_back(p);
        }
    };
    for (std::size_t i = 0; i < requests.size() && i < wanted.size(); ++i) {
        if (!requests[i].tag.empty()) {
            std::for_each(wanted[i].begin(), wanted[i].end(), allow);
        }
    }
    // Each round allows at least one more package or ends; the set is bounded by the pool.
    for (bool more = true; more;) {
        while (!queue.empty()) {
            const Id p = queue.front();
            queue.pop_front();
            const auto& tag = scope.tag_of(pool, p);
            for (const Id dep : pool.requires_of(p)) {
                for (const Id q : pool.providers(dep)) {
                    if (scope.tag_of(pool, q) == tag) {
                        allow(q);
                    }
                }
            }
        }
        std::map<std::string, std::set<std::string>> allowed_names; // tag -> names
        for (const Id p : allowed) {
            allowed_names[scope.tag_of(pool, p)].insert(name_of(pool, p));
        }
        more = false;
        for (const Id p : tagged) {
            if (allowed.contains(p)) {
                continue;
            }
            const auto& names = allowed_names[scope.tag_of(pool, p)];
            const auto conditions = pool.supplement_names(p);
            if (std::any_of(conditions.begin(), conditions.end(),
                            [&](const std::string& name) { return names.contains(name); })) {
                allow(p);
                more = true;
            }
        }
    }
    std::vector<Id> hidden;
    for (const Id p : tagged) {
        if (!allowed.contains(p)) {
            hidden.push_back(p);
        }
    }
    return hidden;
}

/// One rule of an unsolvable problem, in the user's terms.
std::string explain(const solv::PreparedPool& pool, const solv::ProblemRule& rule) {
    switch (rule.kind) {
    case solv::RuleKind::nothing_provides:
        return fmt::format("{} needs {}, which no source provides", short_form(pool, rule.source),
                           pool.dep_text(rule.dep));
    case solv::RuleKind::needs_uninstallable: {
        std::vector<std::string> providers;
        for (const Id p : pool.providers(rule.dep)) {
            providers.push_back(short_form(pool, p));
        }
        return fmt::format("{} needs {}, but {} cannot be installed", short_form(pool, rule.source),
                           pool.dep_text(rule.dep),
                           providers.empty() ? std::string("no provider")
                                             : fmt::format("{}", fmt::join(providers, ", ")));
    }
    case solv::RuleKind::conflicts:
        return fmt::format("{} conflicts with {} ({})", short_form(pool, rule.source),
                           short_form(pool, rule.target), pool.dep_text(rule.dep));
    case solv::RuleKind::same_name:
        return fmt::format("{} and {} are two versions of one package; only one can be installed",
                           short_form(pool, rule.source), short_form(pool, rule.target));
    case solv::RuleKind::not_installable:
        return fmt::format("{} cannot be installed on this architecture",
                           pool.describe(rule.source));
    case solv::RuleKind::job_nothing_provides:
        return fmt::format("nothing provides {}", pool.dep_text(rule.dep));
    case solv::RuleKind::job:
    case solv::RuleKind::other:
        break;
    }
    return rule.libsolv_text;
}

Problem explain(const solv::PreparedPool& pool, const solv::Problem& problem) {
    Problem result;
    std::set<std::string> seen;
    // The most telling rule leads: something missing, then a conflict, then the rest.
    const solv::ProblemRule* lead = nullptr;
    for (const auto kind :
         {solv::RuleKind::nothing_provides, solv::RuleKind::conflicts, solv::RuleKind::same_name,
          solv::RuleKind::needs_uninstallable, solv::RuleKind::not_installable,
          solv::RuleKind::job_nothing_provides}) {
        for (const auto& rule : problem.rules) {
            if (lead == nullptr && rule.kind == kind) {
                lead = &rule;
            }
        }
    }
    result.summary = lead != nullptr ? explain(pool, *lead) : problem.summary;
    seen.insert(result.summary);
    for (const auto& rule : problem.rules) {
        auto text = explain(pool, rule);
        if (seen.insert(text).second) {
            result.details.push_back(std::move(text));
        }
    }
    return result;
}

/// Among the providers of one alternative, those apt would take: the package of that very
/// name when there is one, else the providers with the highest rank (on Debian the Priority:
/// mawk, "required", over gawk, "optional", for "awk").
std::vector<Id> preferred_providers(const solv::PreparedPool& pool, Id alternative,
                                    const std::vector<Id>& providers) {
    const auto name = pool.dep_name(alternative);
    std::vector<Id> preferred;
    for (const Id q : providers) {
        if (pool.info(q).name == name) {
            preferred.push_back(q);
        }
    }
    if (!preferred.empty()) {
        return preferred;
    }
    int best = 0;
    for (const Id q : providers) {
        best = std::max(best, pool.rank(q));
    }
    for (const Id q : providers) {
        if (pool.rank(q) == best) {
            preferred.push_back(q);
        }
    }
    return preferred;
}

/// The packages to favor so that every dependency in `installed` is satisfied as apt would:
/// by the first alternative of "a | b" that can be installed, and for a virtual name by the
/// package of that name or else the provider with the highest rank. libsolv on its own
/// chooses among providers by name. Returns nothing when the installed set already agrees.
std::vector<Id> alternatives_to_favor(const solv::PreparedPool& pool,
                                      const std::vector<Id>& installed,
                                      const std::set<Id>& already) {
    const std::set<Id> in_set(installed.begin(), installed.end());
    std::vector<Id> favor;
    for (const Id p : installed) {
        for (const Id dep : pool.requires_of(p)) {
            for (const Id alternative : pool.alternatives(dep)) {
                const auto providers = pool.providers(alternative);
                if (providers.empty()) {
                    continue; // not installable: apt moves on to the next alternative
                }
                auto preferred = preferred_providers(pool, alternative, providers);
                const bool satisfied = std::any_of(preferred.begin(), preferred.end(),
                                                   [&](Id q) { return in_set.contains(q); });
                if (!satisfied) {
                    // Every version of it, oldest first: libsolv ranks a later favor higher,
                    // so the newest version stays the solver's first choice.
                    std::sort(preferred.begin(), preferred.end(), [&](Id a, Id b) {
                        const auto name_a = pool.info(a).name;
                        const auto name_b = pool.info(b).name;
                        return name_a != name_b ? name_a < name_b : pool.compare_versions(a, b) < 0;
                    });
                    for (const Id q : preferred) {
                        if (!already.contains(q)) {
                            favor.push_back(q);
                        }
                    }
                }
                break;
            }
        }
    }
    return favor;
}

solv::Solution solve_with_first_alternatives(const solv::PreparedPool& pool,
                                             const std::vector<std::vector<Id>>& wanted,
                                             const Options& options, core::Reporter& reporter) {
    // Each round can only add favors, and there are finitely many packages; in practice one
    // or two rounds settle it.
    constexpr int k_max_rounds = 8;
    std::vector<Id> favored;
    std::set<Id> favored_set;
    for (int round = 1;; ++round) {
        const bool last = round == k_max_rounds;
        auto solution = pool.solve(wanted, favored, {});
        if (!solution.problems.empty()) {
            // Favors never make a request unsolvable (they only break ties), so the problems
            // are the request's own; solve once more without them to report them plainly.
            return pool.solve(wanted, {}, options.solver_debug_dir);
        }
        const auto more = alternatives_to_favor(pool, solution.install_order, favored_set);
        if (more.empty() || last) {
            if (!options.solver_debug_dir.empty()) {
                (void)pool.solve(wanted, favored, options.solver_debug_dir);
            }
            return solution;
        }
        for (const Id p : more) {
            if (favored_set.insert(p).second) {
                favored.push_back(p);
                reporter.debug(
                    fmt::format("preferring {} (a first alternative)", pool.describe(p)));
            }
        }
    }
}

/// Why the index makes `p` look like a package whose content its maintainer scripts make at
/// install time, if it does.
std::optional<std::string> installer_reason(const distro::Distro& distro,
                                            const solv::PreparedPool& pool, Id p) {
    const auto info = pool.info(p);
    std::vector<std::string> depends;
    for (const Id dep : pool.requires_of(p)) {
        for (const Id alternative : pool.alternatives(dep)) {
            depends.push_back(pool.dep_name(alternative));
        }
    }
    return distro.installer_by_index(distro::IndexFacts{info.name, info.summary, depends});
}

std::string install_time_warning(const std::string& name, const std::string& reason) {
    return fmt::format("{} looks like an installer package ({}): what its maintainer scripts "
                       "would download or make at install time will not be in the image "
                       "(distill runs no maintainer script)",
                       name, reason);
}

/// The most packages a "why" chain shows.
constexpr std::size_t k_max_why = 32;

/// Fills in why each package is there (the shortest dependency chain from a request) and who
/// wanted each excluded package.
Plan build_plan(const distro::Distro& distro, const solv::PreparedPool& pool,
                const Request& request, const std::vector<RepoInput>& inputs,
                const std::vector<Id>& order, const std::vector<std::vector<Id>>& wanted) {
    const std::set<Id> installed(order.begin(), order.end());
    std::map<Id, std::vector<Id>> children;
    for (const Id p : order) {
        for (const Id dep : pool.requires_of(p)) {
            for (const Id q : pool.providers(dep)) {
                if (q != p && installed.contains(q)) {
                    children[p].push_back(q);
                }
            }
        }
    }

    // Breadth-first from the requests, in manifest order: the first chain found is a
    // shortest one, and the same inputs always give the same chain.
    // Each package keeps only its parent (and the request its chain starts from): a chain is
    // walked when it is shown, never copied from package to package, so a hostile index with
    // a chain thousands deep costs linear memory.
    struct Link {
        Id parent = 0;
        Id root = 0;
        std::size_t depth = 0;
    };
    std::map<Id, Link> links;
    std::deque<Id> queue;
    for (const auto& choices : wanted) {
        for (const Id p : choices) {
            if (installed.contains(p) && !links.contains(p)) {
                links[p] = Link{0, p, 1};
                queue.push_back(p);
                break;
            }
        }
    }
    while (!queue.empty()) {
        const Id p = queue.front();
        queue.pop_front();
        const Link link = links.at(p);
        for (const Id q : children[p]) {
            if (!links.contains(q)) {
                links[q] = Link{p, link.root, link.depth + 1};
                queue.push_back(q);
            }
        }
    }
    // The request, then the packages down to this one; a chain deeper than k_max_why keeps
    // its request and its last packages, with "…" for the middle.
    auto chain = [&](Id p) {
        std::vector<std::string> names;
        const auto found = links.find(p);
        if (found == links.end()) {
            return std::vector<std::string>{name_of(pool, p)};
        }
        const std::size_t depth = found->second.depth;
        const std::size_t tail = depth <= k_max_why ? depth : k_max_why - 2;
        Id at = p;
        for (std::size_t i = 0; i < tail; ++i) {
            names.push_back(name_of(pool, at));
            at = links.at(at).parent;
        }
        if (depth > k_max_why) {
            names.emplace_back("…");
            names.push_back(name_of(pool, found->second.root));
        }
        std::reverse(names.begin(), names.end());
        return names;
    };

    Plan plan;
    plan.arch = request.arch;
    std::map<Id, std::set<std::string>> wanted_by;
    for (const auto& [p, deps] : children) {
        for (const Id q : deps) {
            if (pool.is_stub(q) && !pool.is_stub(p)) {
                wanted_by[q].insert(name_of(pool, p));
            }
        }
    }
    for (const Id p : order) {
        const auto info = pool.info(p);
        if (pool.is_stub(p)) {
            const auto& wanters = wanted_by[p];
            plan.excluded.push_back(ExcludedPackage{
                info.name, request.policy.reason_for(info.name).value_or("excluded"),
                std::vector<std::string>(wanters.begin(), wanters.end())});
            continue;
        }
        PlannedPackage package;
        package.name = info.name;
        package.version = info.evr;
        package.arch = info.arch;
        package.installed_size = info.installed_size;
        package.download_size = info.download_size;
        package.sha256 = info.sha256;
        package.checksum = info.checksum;
        package.source = info.source_name;
        if (info.repo >= 0 && static_cast<std::size_t>(info.repo) < inputs.size()) {
            const auto& input = inputs[static_cast<std::size_t>(info.repo)];
            package.suite = input.suite;
            if (!input.repo_url.empty() && !info.location.empty()) {
                package.url = input.repo_url + "/" + info.location;
            }
        }
        package.why = chain(p);
        std::set<std::string> needs;
        if (const auto found = children.find(p); found != children.end()) {
            for (const Id q : found->second) {
                if (!pool.is_stub(q)) {
                    needs.insert(name_of(pool, q));
                }
            }
        }
        package.depends.assign(needs.begin(), needs.end());
        if (const auto reason = installer_reason(distro, pool, p)) {
            plan.warnings.push_back(install_time_warning(info.name, *reason));
        }
        plan.packages.push_back(std::move(package));
    }
    std::sort(plan.excluded.begin(), plan.excluded.end(),
              [](const ExcludedPackage& a, const ExcludedPackage& b) { return a.name < b.name; });
    return plan;
}

std::string problems_text(const std::vector<Unsolved>& unsolved) {
    std::string text;
    for (const auto& arch : unsolved) {
        for (const auto& problem : arch.problems) {
            text += fmt::format("\n  - {} ({})", problem.summary, arch.arch);
            if (!problem.hint.empty()) {
                text += fmt::format("\n    hint: {}", problem.hint);
            }
        }
    }
    return text;
}

} // namespace

UnsolvableError::UnsolvableError(std::string name, std::vector<Unsolved> unsolved)
    : Error(fmt::format("cannot resolve the packages of {}:{}", name, problems_text(unsolved)),
            ExitCode::unsolvable)
    , m_name(std::move(name))
    , m_unsolved(std::move(unsolved)) {}

std::uint64_t Plan::installed_size() const {
    std::uint64_t total = 0;
    for (const auto& package : packages) {
        total += package.installed_size;
    }
    return total;
}

std::uint64_t Plan::download_size() const {
    std::uint64_t total = 0;
    for (const auto& package : packages) {
        total += package.download_size;
    }
    return total;
}

std::vector<RepoInput> inputs_for(const std::vector<sources::PackageIndex>& indexes) {
    std::vector<RepoInput> inputs;
    inputs.reserve(indexes.size());
    for (const auto& index : indexes) {
        inputs.push_back(RepoInput{fmt::format("{}/{}", index.suite, index.component),
                                   IndexFormat::native, index.path, index.url, index.sha256,
                                   index.repo_url, index.suite, index.tag});
    }
    return inputs;
}

Resolution resolve(const Request& request, const std::vector<RepoInput>& inputs,
                   const Options& options, core::Reporter& reporter) {
    const auto& distro = distro::get(request.distro);
    const auto& loader = distro.index_loader();
    solv::Pool pool(loader, request.arch);
    std::vector<std::string> repo_tags;
    for (const auto& input : inputs) {
        // A pinned repository's packages lose to untagged ones wherever both would do (apk
        // prefers the untagged repositories for what a pinned package pulls in).
        const int repo = pool.add_repo(input.label, input.tag.empty() ? 0 : -1);
        repo_tags.resize(static_cast<std::size_t>(repo) + 1);
        repo_tags[static_cast<std::size_t>(repo)] = input.tag;
        load(pool, repo, input, loader, options);
    }

    const auto names = pool.all_names();
    // A request naming what packages provide (cmd:busybox) asks for its providers as a request
    // by name would: their family leaves the exclusion policy.
    const bool provided_names = distro::facts(request.distro).provided_names;
    auto policy = request.policy;
    if (provided_names) {
        for (const auto& package : request.packages) {
            if (!std::binary_search(names.begin(), names.end(), package.name)) {
                for (const auto& provider : pool.provider_names(package.name)) {
                    policy.request(provider);
                }
            }
        }
    }
    const auto excluded = policy.excluded_among(names);
    // The stub repository outranks every real one, so that a dependency an excluded package
    // could satisfy is satisfied by its stub rather than by a real alternative.
    const int stub_repo = pool.add_repo("@excluded", 1000);
    const auto stubs = pool.stub_out(stub_repo, excluded);
    reporter.debug(fmt::format("{} package names, {} excluded by policy ({} package versions)",
                               names.size(), excluded.size(), stubs));
    auto prepared = std::move(pool).prepare();

    Resolution resolution;
    std::vector<std::vector<Id>> wanted;
    // Providers of provided names, by request (in step with `wanted`): those another request
    // must bring in, and those whose choice waits for what the other requests bring in.
    std::vector<std::pair<std::size_t, std::vector<Id>>> by_others;
    std::vector<std::size_t> provided;
    const RequestScope scope{names, inputs, repo_tags, provided_names};
    for (const auto& package : request.packages) {
        auto found = candidates_for(prepared, package, scope);
        if (auto* problem = std::get_if<Problem>(&found)) {
            resolution.problems.push_back(std::move(*problem));
            continue;
        }
        auto candidates = std::get<Candidates>(std::move(found));
        if (candidates.choice == Choice::provided) {
            provided.push_back(wanted.size());
        }
        wanted.push_back(std::move(candidates.ids));
        if (candidates.choice == Choice::by_others) {
            by_others.emplace_back(wanted.size() - 1, std::move(wanted.back()));
            wanted.back().clear(); // no job: the solver may not choose for this request
        }
    }
    if (!resolution.problems.empty()) {
        return resolution;
    }
    prepared.hide(not_allowed(prepared, scope, request.packages, wanted));
    // A provided name that a provider the other requests bring in satisfies takes that one
    // (apk's world is one set of dependencies); else the provider with the highest priority
    // (apk's provider_priority), as libsolv's own choice goes by name.
    if (!provided.empty()) {
        std::vector<std::vector<Id>> providers;
        providers.reserve(provided.size());
        for (const auto index : provided) {
            providers.push_back(std::exchange(wanted[index], {}));
        }
        const auto others = solve_with_first_alternatives(prepared, wanted, {}, reporter);
        const std::set<Id> brought(others.install_order.begin(), others.install_order.end());
        for (std::size_t i = 0; i < provided.size(); ++i) {
            auto& ids = providers[i];
            if (std::any_of(ids.begin(), ids.end(), [&](Id p) { return brought.contains(p); })) {
                by_others.emplace_back(provided[i], std::move(ids));
                continue;
            }
            int best = 0;
            for (const Id p : ids) {
                best = std::max(best, prepared.rank(p));
            }
            std::copy_if(ids.begin(), ids.end(), std::back_inserter(wanted[provided[i]]),
                         [&](Id p) { return prepared.rank(p) == best; });
        }
    }

    const auto solution = solve_with_first_alternatives(prepared, wanted, options, reporter);
    for (const auto& problem : solution.problems) {
        resolution.problems.push_back(explain(prepared, problem));
    }
    const std::set<Id> installed(solution.install_order.begin(), solution.install_order.end());
    for (const auto& [index, providers] : by_others) {
        const auto& package = request.packages[index];
        if (!solution.problems.empty() ||
            std::any_of(providers.begin(), providers.end(),
                        [&](Id p) { return installed.contains(p); })) {
            continue;
        }
        std::vector<std::string> provider_names;
        for (const Id p : providers) {
            provider_names.push_back(name_of(prepared, p));
        }
        std::sort(provider_names.begin(), provider_names.end());
        provider_names.erase(std::unique(provider_names.begin(), provider_names.end()),
                             provider_names.end());
        resolution.problems.push_back(
            Problem{fmt::format("{}{} is provided by {}, none of them is its default provider (a "
                                "provider_priority or a versioned provide), and no other request "
                                "brings one in; ask for one of them by name",
                                package.where.line > 0 ? package.where.str() + ": " : std::string(),
                                package.name, fmt::join(provider_names, ", ")),
                    {},
                    {},
                    {}});
    }
    if (resolution.problems.empty()) {
        resolution.plan =
            build_plan(distro, prepared, request, inputs, solution.install_order, wanted);
    }
    return resolution;
}

std::map<std::string, std::size_t> find_names(const std::vector<std::string>& names,
                                              const std::vector<RepoInput>& inputs,
                                              manifest::Distro distro, const std::string& arch,
                                              const Options& options) {
    const auto& loader = distro::get(distro).index_loader();
    solv::Pool pool(loader, arch);
    for (const auto& input : inputs) {
        load(pool, pool.add_repo(input.label), input, loader, options);
    }
    const auto prepared = std::move(pool).prepare();
    std::map<std::string, std::size_t> found;
    for (const auto& name : names) {
        for (const Id p : prepared.named(name)) {
            const int repo = prepared.info(p).repo;
            if (repo >= 0 && !found.contains(name)) {
                found[name] = static_cast<std::size_t>(repo);
            }
        }
    }
    return found;
}

nlohmann::json to_json(const Plan& plan) {
    nlohmann::json packages = nlohmann::json::array();
    nlohmann::json variant_packages = nlohmann::json::object();
    for (const auto& p : plan.packages) {
        auto& list = p.variant.empty() ? packages : variant_packages[p.variant];
        list.push_back({{"name", p.name},
                        {"version", p.version},
                        {"arch", p.arch},
                        {"size", p.installed_size},
                        {"download_size", p.download_size},
                        {"sha256", p.sha256},
                        {"url", p.url},
                        {"suite", p.suite},
                        {"source", p.source},
                        {"why", p.why}});
        if (!p.checksum.empty()) {
            list.back()["checksum"] = p.checksum;
        }
    }
    nlohmann::json excluded = nlohmann::json::array();
    for (const auto& e : plan.excluded) {
        excluded.push_back({{"name", e.name}, {"reason", e.reason}, {"wanted_by", e.wanted_by}});
    }
    return {{"arch", plan.arch},
            {"packages", packages},
            {"variant_packages", variant_packages},
            {"excluded", excluded},
            {"warnings", plan.warnings},
            {"installed_size", plan.installed_size()},
            {"download_size", plan.download_size()}};
}

} // namespace distill::resolve
