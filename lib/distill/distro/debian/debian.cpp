#include <algorithm>
#include <array>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <distill/core/digest.hpp>
#include <distill/core/fs.hpp>
#include <distill/core/gzip.hpp>
#include <distill/core/text.hpp>
#include <distill/distro/alternatives.hpp>
#include <distill/distro/debian/archive.hpp>
#include <distill/distro/debian/changelog.hpp>
#include <distill/distro/debian/control.hpp>
#include <distill/distro/debian/deb.hpp>
#include <distill/distro/debian/debian.hpp>
#include <distill/distro/debian/dpkg_database.hpp>
#include <distill/distro/debian/fields.hpp>
#include <distill/distro/debian/host.hpp>
#include <distill/distro/debian/installers.hpp>
#include <distill/distro/debian/policy.hpp>
#include <distill/distro/debian/pool_loader.hpp>
#include <distill/distro/debian/version.hpp>
#include <distill/sbom/license.hpp>
#include <distill/unpack/tree.hpp>

namespace distill::distro::debian {
namespace {

namespace fs = std::filesystem;
using sources::Context;
using sources::IndexSet;
using sources::Repository;
using sources::UnusedIndex;

// What openjdk-*-jre-headless's postinst registers with update-alternatives: the tools in the
// JVM's bin/ directory, linked from /usr/bin.
constexpr AlternativesRule k_alternatives[] = {
    {"/usr/lib/jvm/*/bin/*", "usr/bin"},
};

} // namespace

const Debian& distro() {
    static const Debian debian;
    return debian;
}

std::vector<std::string> add_alternatives(unpack::Tree& tree) {
    return distro::add_alternatives(tree, k_alternatives);
}

manifest::Distro Debian::id() const {
    return manifest::Distro::debian;
}

std::string_view Debian::example_release() const {
    return "bookworm";
}

std::optional<manifest::Diagnostic>
Debian::check_request(const manifest::PackageRequest& package) const {
    if (!package.tag.empty()) {
        return manifest::Diagnostic{
            package.where,
            fmt::format("`{}@{}`: Debian has no pinned repositories", package.name, package.tag),
            fmt::format("write `{}` or `{}=VERSION`", package.name, package.name)};
    }
    if (!package.relation.empty() && package.relation != "=") {
        return manifest::Diagnostic{
            package.where,
            fmt::format("`{}{}{}`: a Debian request takes an exact version only", package.name,
                        package.relation, package.version),
            fmt::format("write `{}=VERSION` with a version `distill plan` lists", package.name)};
    }
    std::string why;
    if (Version::parse(package.version, &why)) {
        return std::nullopt;
    }
    return manifest::Diagnostic{
        package.where,
        fmt::format("version `{}` of `{}` is not a Debian version: {}", package.version,
                    package.name, why),
        "Debian versions look like [epoch:]upstream[-revision], e.g. `2:4.35-1`; "
        "`distill plan` lists the versions the sources offer"};
}

std::vector<Repository> Debian::repositories(const manifest::Manifest& manifest) const {
    std::optional<debian::Mirrors> mirrors;
    return make_repositories(manifest, {[&](const std::string& suite) {
                                            if (!mirrors) {
                                                mirrors = default_mirrors(manifest.release);
                                            }
                                            return suite.ends_with("-security") ? mirrors->security
                                                                                : mirrors->archive;
                                        },
                                        [] {
                                            return std::filesystem::path(k_default_keyring);
                                        }});
}

IndexSet Debian::fetch_indexes(const std::vector<Repository>& repositories, const std::string& arch,
                               Context& context) const {
    IndexSet set;
    set.arch = arch;
    for (const auto& repository : repositories) {
        with_context(fmt::format("reading suite {} of {}", repository.suite, repository.url), [&] {
            const auto release = fetch_release(repository, context, set.stats);
            auto indexes = fetch_package_indexes(repository, release, arch, context, set.stats);
            set.indexes.insert(set.indexes.end(), std::make_move_iterator(indexes.begin()),
                               std::make_move_iterator(indexes.end()));
            auto unused = unused_indexes(repository, release, arch);
            set.unused.insert(set.unused.end(), std::make_move_iterator(unused.begin()),
                              std::make_move_iterator(unused.end()));
        });
    }
    return set;
}

std::string Debian::component_hint(const std::string& package, const UnusedIndex& where) const {
    const auto& repository = where.repository;
    auto components = repository.components;
    components.push_back(where.index.component);
    const std::string list = fmt::format("components: [{}]", fmt::join(components, ", "));
    const std::string found = fmt::format("{} is in {} of {}, which this manifest does not use",
                                          package, where.index.component, repository.suite);
    if (repository.where.line <= 0) {
        // No `sources` in the manifest: one entry with only components keeps every default.
        return fmt::format("{}; add it with `sources: [{{{}}}]`", found, list);
    }
    return fmt::format("{}; add it with `{}` under sources (the source at {})", found, list,
                       repository.where.str());
}

const resolve::solv::IndexLoader& Debian::index_loader() const {
    static const PoolLoader loader;
    return loader;
}

std::span<const PolicyRule> Debian::exclusion_rules() const {
    return debian::exclusion_rules();
}

std::optional<std::string> Debian::installer_by_index(const IndexFacts& facts) const {
    return debian::installer_by_index(facts);
}

const unpack::Reader& Debian::reader() const {
    static const DebReader reader;
    return reader;
}

void Debian::check_download(const std::filesystem::path& /*file*/, const package::Record& record,
                            const std::string& url) const {
    // Debian's indexes give every package file's SHA-256, which fetch checks itself.
    throw Error(fmt::format("{}: {}: no SHA-256 to check the download against", record.name, url));
}

std::optional<std::string>
Debian::installer_by_package(const unpack::UnpackedPackage& package) const {
    std::vector<std::string> paths;
    for (const auto& entry : package.entries) {
        paths.push_back(entry.path);
    }
    return debian::installer_by_package(PackageFacts{package.control, package.scripts, paths});
}

bool Debian::merged_usr(const std::string& release) const {
    // Debian moved /bin, /sbin and /lib* under /usr with bookworm (new installs of bullseye
    // already had it); the releases before keep them apart.
    static const std::vector<std::string> split{"jessie", "stretch", "buster"};
    return std::find(split.begin(), split.end(), release) == split.end();
}

std::string Debian::os_release(const manifest::Manifest& manifest) const {
    // Scanners (Syft, Grype) take the release from VERSION_ID.
    constexpr std::array<std::pair<std::string_view, std::string_view>, 5> numbers{
        {{"buster", "10"},
         {"bullseye", "11"},
         {"bookworm", "12"},
         {"trixie", "13"},
         {"forky", "14"}}};
    std::string version_id;
    for (const auto& [codename, number] : numbers) {
        if (manifest.release == codename) {
            version_id = fmt::format("VERSION_ID=\"{}\"\n", number);
        }
    }
    return fmt::format("PRETTY_NAME=\"Distroless (debian {})\"\nNAME=\"Debian GNU/Linux\"\n"
                       "ID=debian\n{}VERSION_CODENAME={}\nHOME_URL=\"https://www.debian.org/\"\n",
                       manifest.release, version_id, manifest.release);
}

std::string_view Debian::openssl_directory() const {
    // libssl3 is built with OPENSSLDIR /usr/lib/ssl, where Debian's openssl package links
    // certs and cert.pem to /etc/ssl.
    return "usr/lib/ssl";
}

std::vector<std::string> Debian::add_alternatives(unpack::Tree& tree) const {
    return debian::add_alternatives(tree);
}

std::size_t Debian::write_package_database(unpack::Tree& tree) const {
    return debian::write_package_database(tree);
}

std::string_view Debian::package_database() const {
    return k_dpkg_status;
}

std::vector<InstalledPackage> Debian::read_package_database(std::string_view text) const {
    return debian::read_package_database(text);
}

int Debian::compare_versions(std::string_view a, std::string_view b) const {
    return debian::compare_versions(a, b);
}

std::optional<std::string> Debian::identity_problem(std::string_view name, std::string_view version,
                                                    std::string_view arch) const {
    return debian::identity_problem(name, version, arch);
}

void Debian::check_identity(const unpack::UnpackedPackage& contents, std::string_view label,
                            std::string_view name, std::string_view version,
                            std::string_view arch) const {
    const auto paragraphs = parse_paragraphs(contents.control, fmt::format("{} control", label));
    if (paragraphs.size() != 1) {
        throw VerificationError(fmt::format("{}: the control file holds {} paragraphs; a package "
                                            "describes itself in exactly one",
                                            label, paragraphs.size()));
    }
    const auto& control = paragraphs.front();
    // The image's package database shows the control data: it must say what the verified
    // index (or the lock) said this file is, or the database would list another package.
    const auto differs = [&](std::string_view field, std::string_view planned) {
        const auto own = control.value_or(field, "");
        if (field == "Architecture" && own == "all") {
            return;
        }
        if (own != planned) {
            throw VerificationError(fmt::format(
                "{}: the package's control file says {} `{}`, but the index or lock that chose "
                "it says `{}`",
                label, field, core::printable(own), core::printable(planned)));
        }
    };
    differs("Package", name);
    differs("Version", version);
    differs("Architecture", arch);
}

sbom::PackageFacts Debian::package_facts(const package::Record& record,
                                         const unpack::Tree& tree) const {
    sbom::PackageFacts facts;
    facts.purl_type = "deb";
    facts.source_version = record.version;
    if (record.contents) {
        const auto paragraphs = parse_paragraphs(record.contents->control,
                                                 fmt::format("{} control", package::label(record)));
        if (paragraphs.size() == 1) {
            const auto& control = paragraphs.front();
            facts.supplier = control.value_or("Maintainer", "");
            facts.homepage = control.value_or("Homepage", "");
            // "Source: name (version)" when the source's version is not the package's.
            const auto source = control.value_or("Source", "");
            const auto open = source.find('(');
            const auto close = source.rfind(')');
            if (open != std::string::npos && close != std::string::npos && close > open) {
                facts.source_version = core::trim(source.substr(open + 1, close - open - 1));
            }
        }
    }
    // The copyright file is in the package's doc directory, or where that directory links to
    // (another package of the same source: libgcc-s1's is gcc-12-base's).
    std::string doc = "usr/share/doc/" + record.name;
    if (const auto* dir = tree.find(doc);
        dir != nullptr && dir->type == unpack::EntryType::symlink) {
        doc = "usr/share/doc/" + fs::path(dir->link).filename().string();
    }
    const auto path = doc + "/copyright";
    constexpr std::uint64_t max_copyright = 1U << 20U;
    if (const auto* file = tree.find(path);
        file != nullptr && file->type == unpack::EntryType::file && file->size <= max_copyright) {
        const auto text = tree.read(path);
        if (core::sha256_hex(text) != file->sha256) {
            throw VerificationError(
                fmt::format("`/{}` of {} differs from what was recorded when it was read", path,
                            package::label(record)));
        }
        facts.license = sbom::license_from_copyright(text);
    }
    return facts;
}

std::optional<Fixes> Debian::changelog_fixes(const std::string& package,
                                             std::span<const std::string> candidates,
                                             const ContentsOf& contents, std::string_view older,
                                             std::string_view newer, std::string& note) const {
    // The changelog is in the package's own doc directory, or where that directory links to
    // (another package of the same source, as Debian often does).
    std::set<std::string> doc_dirs{package};
    for (const auto& candidate : candidates) {
        const auto content = contents(candidate);
        if (!content) {
            continue;
        }
        for (const auto& entry : content->entries) {
            const auto path = unpack::Tree::normalise(entry.path, candidate);
            if (entry.type == unpack::EntryType::symlink && path == "usr/share/doc/" + package) {
                doc_dirs.insert(fs::path(entry.link).filename().string());
            }
        }
        // Non-native packages keep Debian's changelog in changelog.Debian.gz (changelog.gz
        // is upstream's); native ones (ca-certificates, tzdata's kind) in changelog.gz.
        for (const char* name : {"changelog.Debian.gz", "changelog.gz"}) {
            for (const auto& entry : content->entries) {
                const auto path = unpack::Tree::normalise(entry.path, candidate);
                for (const auto& dir : doc_dirs) {
                    if (entry.type == unpack::EntryType::file &&
                        path == "usr/share/doc/" + dir + "/" + name) {
                        const auto text = core::gunzip(
                            core::read_file_range(content->pack, entry.offset, entry.size), path);
                        return fixes_between(parse_changelog(text), older, newer);
                    }
                }
            }
        }
    }
    note = "no changelog.Debian.gz in the package or its source's other packages";
    return std::nullopt;
}

} // namespace distill::distro::debian
