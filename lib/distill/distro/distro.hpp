#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <distill/manifest/manifest.hpp>
#include <distill/package/record.hpp>
#include <distill/resolve/solv/loader.hpp>
#include <distill/sbom/facts.hpp>
#include <distill/sources/sources.hpp>
#include <distill/unpack/package.hpp>
#include <distill/unpack/unpack.hpp>

namespace distill::unpack {
class Tree;
}

// The distro seam: everything that depends on which distribution the packages come from sits
// behind Distro, chosen once from the manifest's `distro` (get()). Debian is the first
// implementation (distro/debian/); see lib/README.md for how to add one.
namespace distill::distro {

/// One rule of a distro's distroless exclusion policy: packages matching `pattern` (a glob
/// over names) stay out of the image, for `reason`; rules of one `family` leave the policy
/// together when the manifest asks for a package of the family.
struct PolicyRule {
    std::string_view pattern;
    std::string_view reason;
    std::string_view family{}; ///< empty: the pattern is its own family
};

/// What an index says about a package that installer detection looks at.
struct IndexFacts {
    std::string_view name;
    std::string_view summary;             ///< the first line of the description
    std::span<const std::string> depends; ///< names it depends on, alternatives too
};

/// A package as the image's package database lists it (read back by `distill diff`).
struct InstalledPackage {
    std::string name;
    std::string version;
    std::string arch;
    std::string source; ///< its source package
    std::uint64_t installed_size = 0;
};

/// What the changelog entries between two versions of a package fixed.
struct Fixes {
    std::vector<std::string> versions; ///< the entries' versions, newest first
    std::vector<std::string> cves;     ///< CVE identifiers, in order of appearance, unique
    std::vector<std::string> bugs;     ///< bug numbers the entries close
};

/// The contents of a package of the image, by name, for diff's changelog lookup: fetched or
/// taken from the cache; nullopt when the package cannot be had.
using ContentsOf = std::function<std::optional<unpack::UnpackedPackage>(const std::string& name)>;

/// A distribution: its archives, its package format and the effects its maintainer scripts
/// would have had. Implementations are stateless singletons (get()). The manifest checks only
/// the distro can make come from manifest::DistroRules (a release for examples, the version
/// syntax of pins); what every distro a manifest can name has is data (facts.hpp, arch.hpp).
class Distro : public manifest::DistroRules {
public:
    /// Which distro this is.
    [[nodiscard]] virtual manifest::Distro id() const = 0;

    // --- sources --------------------------------------------------------------------------

    /// The repositories of a manifest (after manifest::with_defaults(), which gives every source
    /// its suites and components): one per suite of each source, with the host's defaults for
    /// what the manifest leaves out (mirror, keyring).
    [[nodiscard]] virtual std::vector<sources::Repository>
    repositories(const manifest::Manifest& manifest) const = 0;

    /// Downloads (or takes from the cache) and verifies every package index of `repositories`
    /// for `arch`: the signed release file first, then each index against its hash. The other
    /// components' indexes are listed, not downloaded (IndexSet::unused).
    [[nodiscard]] virtual sources::IndexSet
    fetch_indexes(const std::vector<sources::Repository>& repositories, const std::string& arch,
                  sources::Context& context) const = 0;

    /// The hint for a requested package that only an unused index has: where it is, and how
    /// to add that to the manifest.
    [[nodiscard]] virtual std::string component_hint(const std::string& package,
                                                     const sources::UnusedIndex& where) const = 0;

    /// Why a package's name, version and architecture, as an index, a lock or the package
    /// itself gives them, break the distro's grammar (naming the field and the value), or
    /// nullopt. These fields become cache file names and package database paths: nothing
    /// uses one before it passed this check.
    [[nodiscard]] virtual std::optional<std::string>
    identity_problem(std::string_view name, std::string_view version,
                     std::string_view arch) const = 0;

    /// Checks that a package's own description of itself (its control data) names the
    /// package that was planned (from a verified index or a lock); a VerificationError naming
    /// both values otherwise. A package for every architecture fits any planned one.
    virtual void check_identity(const unpack::UnpackedPackage& contents, std::string_view label,
                                std::string_view name, std::string_view version,
                                std::string_view arch) const = 0;

    // --- resolve --------------------------------------------------------------------------

    /// How the distro's indexes go into the libsolv pool: its semantics (version comparison,
    /// dependency syntax), its index format, the rank of each package among providers.
    [[nodiscard]] virtual const resolve::solv::IndexLoader& index_loader() const = 0;

    /// The distroless exclusion policy: shells, interpreters, package managers, ...
    [[nodiscard]] virtual std::span<const PolicyRule> exclusion_rules() const = 0;

    /// Why the index makes a package look like one whose content its maintainer scripts
    /// download or make at install time, or nothing.
    [[nodiscard]] virtual std::optional<std::string>
    installer_by_index(const IndexFacts& facts) const = 0;

    // --- unpack ---------------------------------------------------------------------------

    /// The reader of the distro's package files.
    [[nodiscard]] virtual const unpack::Reader& reader() const = 0;

    /// Checks a package file downloaded for `record` whose index gives no SHA-256 of it (see
    /// package::Record::checksum): a VerificationError naming `url` when it is not the file
    /// the index names. Distros whose index gives the SHA-256 are never asked.
    virtual void check_download(const std::filesystem::path& file, const package::Record& record,
                                const std::string& url) const = 0;

    /// Why a package's content is made by its maintainer scripts at install time, judged by
    /// what it holds, or nothing. Firmer than installer_by_index().
    [[nodiscard]] virtual std::optional<std::string>
    installer_by_package(const unpack::UnpackedPackage& package) const = 0;

    /// Whether `release` keeps /bin, /sbin and /lib* under /usr (merged /usr).
    [[nodiscard]] virtual bool merged_usr(const std::string& release) const = 0;

    // --- assemble -------------------------------------------------------------------------

    /// /etc/os-release for an image whose packages ship none.
    [[nodiscard]] virtual std::string os_release(const manifest::Manifest& manifest) const = 0;

    /// The distro's other release files scanners identify it by, as (path, content), for an
    /// image whose packages ship none of them (Alpine's /etc/alpine-release). None by default.
    [[nodiscard]] virtual std::vector<std::pair<std::string, std::string>>
    release_files(const manifest::Manifest& /*manifest*/) const {
        return {};
    }

    /// Where the distro's OpenSSL looks for its CA certificates besides /etc/ssl ("usr/lib/ssl"
    /// on Debian, whose openssl package links certs and cert.pem there); empty: nowhere else.
    [[nodiscard]] virtual std::string_view openssl_directory() const = 0;

    /// The package manager's configuration as the image's packages came from it, as (path,
    /// content): for Alpine /etc/apk/repositories (the manifest's repositories, pinned ones
    /// with their `@tag`) and the keys that sign them in /etc/apk/keys, as apk and apko leave
    /// them; scanners read the release the repositories name. Files a package ships stay.
    /// None by default.
    [[nodiscard]] virtual std::vector<std::pair<std::string, std::string>>
    package_manager_files(const manifest::Manifest& /*manifest*/) const {
        return {};
    }

    /// The links the packages' alternatives would make (update-alternatives and the like);
    /// returns "link -> target" for each.
    virtual std::vector<std::string> add_alternatives(unpack::Tree& tree) const = 0;

    /// Writes the package database scanners read, listing exactly the packages and the files
    /// of the tree; returns the number of packages.
    virtual std::size_t write_package_database(unpack::Tree& tree) const = 0;

    // --- bill of materials ------------------------------------------------------------------

    /// What an SBOM says of a package of the image beyond its record, read from the package's
    /// own metadata (`record.contents`) and, where the distro keeps it there, its copyright file
    /// in `tree` (of the packages the tree holds).
    [[nodiscard]] virtual sbom::PackageFacts package_facts(const package::Record& record,
                                                           const unpack::Tree& tree) const = 0;

    // --- diff -----------------------------------------------------------------------------

    /// The file of an image that holds the package database (relative to the root).
    [[nodiscard]] virtual std::string_view package_database() const = 0;

    /// The packages the package database (the text of package_database()) lists.
    [[nodiscard]] virtual std::vector<InstalledPackage>
    read_package_database(std::string_view text) const = 0;

    /// Orders two versions of a package: negative, zero or positive.
    [[nodiscard]] virtual int compare_versions(std::string_view a, std::string_view b) const = 0;

    /// What the changelog of `package` lists between `older` and `newer`, read from the
    /// contents of `candidates` (the package first, then its source's other packages, which
    /// may hold the changelog for it), taken one by one from `contents`. nullopt with `note`
    /// set when there is no changelog to read.
    [[nodiscard]] virtual std::optional<Fixes>
    changelog_fixes(const std::string& package, std::span<const std::string> candidates,
                    const ContentsOf& contents, std::string_view older, std::string_view newer,
                    std::string& note) const = 0;
};

/// What a distro picks from the host for a source that leaves it out.
struct HostDefaults {
    /// The mirror URL for a suite (no trailing slash); asked only when a source has no `url`.
    std::function<std::string(const std::string& suite)> mirror;
    /// The keyring; asked only when a source has no `keyring`.
    std::function<std::filesystem::path()> keyring;
};

/// The repositories of a defaulted manifest (manifest::with_defaults(), which gives every
/// source its suites and components): one per suite of each source, with `host`'s mirror and
/// keyring where the source names none, and where the user can fix each suite's name.
[[nodiscard]] std::vector<sources::Repository> make_repositories(const manifest::Manifest& manifest,
                                                                 const HostDefaults& host);

/// The implementation of `distro`; an Error when this distill has none yet.
[[nodiscard]] const Distro& get(manifest::Distro distro);

/// The implementation of the manifest's distro; an Error naming the manifest when this distill
/// has none yet.
[[nodiscard]] const Distro& get(const manifest::Manifest& manifest);

/// The implementation of `distro`, or nullptr when this distill has none yet.
[[nodiscard]] const Distro* find(manifest::Distro distro);

/// Every implemented distro.
[[nodiscard]] std::span<const Distro* const> all();

/// Checks a manifest as manifest::validate() does, with the rules of its distro when this
/// distill implements it. Throws manifest::ManifestError with every problem found.
void validate(const manifest::Manifest& manifest);

/// Reads the manifest at `path` once for the whole run: parses it, validates it (validate())
/// and applies every default (manifest::with_defaults()). The architectures are `archs` when
/// given (--arch), else the manifest's, else the host's in the distro's naming.
[[nodiscard]] manifest::Loaded load_manifest(const std::filesystem::path& path,
                                             const std::vector<std::string>& archs = {});

} // namespace distill::distro
