#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <distill/core/reporter.hpp>
#include <distill/manifest/manifest.hpp>
#include <distill/package/record.hpp>
#include <distill/resolve/policy.hpp>
#include <distill/sources/sources.hpp>

namespace distill::resolve {

/// A package the image will contain: the record the later steps fill in, with what the
/// resolver knows (name to why) set.
using PlannedPackage = package::Record;

/// A package that something needs, but that the exclusion policy keeps out.
struct ExcludedPackage {
    std::string name;
    std::string reason;                 ///< the policy rule, e.g. "shell"
    std::vector<std::string> wanted_by; ///< the packages in the plan that depend on it
};

/// What goes into the image for one architecture, in install order.
struct Plan {
    std::string arch;
    std::vector<PlannedPackage> packages;
    std::vector<ExcludedPackage> excluded;
    /// What the user should know although the plan stands: packages whose content their
    /// maintainer scripts would make at install time, which distill does not run.
    std::vector<std::string> warnings;

    [[nodiscard]] std::uint64_t installed_size() const;
    [[nodiscard]] std::uint64_t download_size() const;
};

/// One reason the request cannot be satisfied, in the user's terms.
struct Problem {
    std::string summary; ///< e.g. "mopidy needs python3-gst-1.0, which no source provides"
    std::vector<std::string> details; ///< the rules behind it
    /// The requested name when no source has a package of that name at all (empty otherwise):
    /// the caller may know where else it is.
    std::string missing;
    std::string hint; ///< how to fix it, when known (may be empty)
};

/// The solver's answer: a plan, or the problems that stand in the way.
struct Resolution {
    Plan plan;
    std::vector<Problem> problems;

    [[nodiscard]] bool solved() const noexcept { return problems.empty(); }
};

/// The problems that keep one architecture from resolving.
struct Unsolved {
    std::string arch;
    std::vector<Problem> problems;
};

/// The request cannot be resolved where a plan must be had (`distill build`, `distill lock`):
/// the problems come as data, for the caller to explain as `distill plan` does. Exit code 6.
class UnsolvableError : public Error {
public:
    /// The problems of resolving the image `name`, per architecture.
    UnsolvableError(std::string name, std::vector<Unsolved> unsolved);
    [[nodiscard]] const std::string& name() const noexcept { return m_name; }
    [[nodiscard]] const std::vector<Unsolved>& unsolved() const noexcept { return m_unsolved; }

private:
    std::string m_name;
    std::vector<Unsolved> m_unsolved;
};

/// The format of a repository input.
enum class IndexFormat {
    native,   ///< the distro's own index format, read by its loader (Distro::index_loader())
    testtags, ///< libsolv's testtags (tests, and replays of --solver-debug testcases)
    deb_packages = native, ///< the native format of distro::debian, by the name tests give it
};

/// A repository to resolve from.
struct RepoInput {
    std::string label; ///< shown in messages: the suite and component, "SUITE/COMPONENT"
    IndexFormat format = IndexFormat::deb_packages;
    std::filesystem::path path;
    /// The index's name as served ("…/INDEX.xz"): its suffix says how `path` (a cache blob
    /// without one) is compressed. Empty: `path` itself tells.
    std::string served_as;
    std::string sha256;   ///< of the file at `path`; keys the parsed-index cache (empty: none)
    std::string repo_url; ///< package locations are relative to this (empty for testtags)
    std::string suite;
    /// A pinned repository's tag (Alpine): its packages are chosen only for requests naming
    /// the tag and for what those need that no untagged repository has.
    std::string tag;
};

/// The inputs for the verified indexes of the sources stage.
[[nodiscard]] std::vector<RepoInput> inputs_for(const std::vector<sources::PackageIndex>& indexes);

/// What to install and what to keep out.
struct Request {
    /// Whose semantics and index format the inputs have (distro::get()).
    manifest::Distro distro = manifest::Distro::debian;
    std::string arch;
    std::vector<manifest::PackageRequest> packages;
    ExclusionPolicy policy;
};

/// How to run the resolver.
struct Options {
    /// Where parsed indexes are cached (empty: no cache).
    const core::Cache* cache = nullptr;
    /// When set, a libsolv testcase of the run is written here.
    std::filesystem::path solver_debug_dir;
};

/// Resolves the closure of the requested packages with the semantics of the request's distro
/// (for Debian: Depends and Pre-Depends, not Recommends or Suggests, version relations,
/// multi-arch qualifiers): alternatives in the order written, virtual packages (the package of
/// that name, else the provider of highest rank), pins. Excluded packages are replaced by
/// stubs, so that dependencies on them are satisfied without installing them. An unsolvable
/// request is returned as problems, not thrown.
[[nodiscard]] Resolution resolve(const Request& request, const std::vector<RepoInput>& inputs,
                                 const Options& options, core::Reporter& reporter);

/// For each of `names` that an input has a package of, the index of the first such input;
/// names no input has are left out. Used to say where a package the resolved inputs lack is.
[[nodiscard]] std::map<std::string, std::size_t>
find_names(const std::vector<std::string>& names, const std::vector<RepoInput>& inputs,
           manifest::Distro distro, const std::string& arch, const Options& options);

/// The plan as JSON: {"arch", "packages": [{"name","version","arch","size",...,"why"}],
/// "excluded": [{"name","reason","wanted_by"}], "warnings": ["..."]}.
[[nodiscard]] nlohmann::json to_json(const Plan& plan);

} // namespace distill::resolve
