#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <distill/core/text.hpp>
#include <distill/distro/alpine/alpine.hpp>
#include <distill/distro/alpine/apk.hpp>
#include <distill/distro/alpine/archive.hpp>
#include <distill/distro/alpine/database.hpp>
#include <distill/distro/alpine/host.hpp>
#include <distill/distro/alpine/policy.hpp>
#include <distill/distro/alpine/pool_loader.hpp>
#include <distill/distro/alpine/signature.hpp>
#include <distill/distro/alpine/version.hpp>
#include <distill/distro/arch.hpp>
#include <distill/distro/facts.hpp>
#include <distill/sbom/license.hpp>
#include <distill/unpack/tree.hpp>

namespace distill::distro::alpine {
namespace {

using sources::Context;
using sources::IndexSet;
using sources::Repository;

/// "3.19" for the release "v3.19"; other names (edge) as they are.
std::string version_id(const std::string& release) {
    return release.size() > 1 && release.front() == 'v' && release[1] >= '0' && release[1] <= '9'
               ? release.substr(1)
               : release;
}

constexpr std::string_view k_busybox = "bin/busybox";
constexpr std::string_view k_busybox_paths = "etc/busybox-paths.d/busybox";
// Busybox 1.36 lists 304 applets; its list file is about 4 KiB.
constexpr std::size_t k_max_applets = 4096;
constexpr std::uint64_t k_max_applet_list = std::uint64_t{256} << 10U;

} // namespace

std::vector<std::string> add_busybox_links(unpack::Tree& tree) {
    const auto* busybox = tree.find(std::string(k_busybox));
    const auto* list = tree.find(std::string(k_busybox_paths));
    if (busybox == nullptr || busybox->type != unpack::EntryType::file || list == nullptr ||
        list->type != unpack::EntryType::file) {
        return {};
    }
    const std::string origin = fmt::format("/{}", k_busybox_paths);
    if (list->size > k_max_applet_list) {
        throw unpack::UnsafeContentError(
            fmt::format("{}: {} bytes; a busybox applet list is a few KiB", origin, list->size));
    }
    // What `busybox --install -s` makes: a link to /bin/busybox at each applet's path (the
    // package lists them) where no file is.
    std::vector<std::string> made;
    std::size_t count = 0;
    const auto content = tree.read(std::string(k_busybox_paths));
    for (std::size_t start = 0; start < content.size();) {
        auto end = content.find('\n', start);
        if (end == std::string::npos) {
            end = content.size();
        }
        std::string_view text(content.data() + start, end - start);
        start = end + 1;
        while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) {
            text.remove_suffix(1);
        }
        if (text.empty()) {
            continue;
        }
        if (++count > k_max_applets) {
            throw unpack::UnsafeContentError(
                fmt::format("{}: more than {} applets", origin, k_max_applets));
        }
        const auto path = unpack::Tree::normalise(text, origin);
        if (path.empty() || tree.find(path) != nullptr) {
            continue;
        }
        const unpack::Tree::Explaining why(
            tree, fmt::format("the link of busybox's applet {} (as listed in /{}, and as "
                              "busybox --install would make it)",
                              path.substr(path.rfind('/') + 1), k_busybox_paths));
        tree.put_symlink(path, "/bin/busybox");
        made.push_back(fmt::format("/{} -> /bin/busybox", path));
    }
    return made;
}

sbom::PackageFacts Alpine::package_facts(const package::Record& record,
                                         const unpack::Tree& /*tree*/) const {
    sbom::PackageFacts facts;
    facts.purl_type = "apk";
    facts.source_version = record.version;
    if (record.contents) {
        const auto info = parse_pkginfo(record.contents->control,
                                        fmt::format("{}: .PKGINFO", package::label(record)));
        facts.supplier = info.maintainer;
        facts.homepage = info.url;
        // apk keeps the last `license` line; melange writes one line per licence, all of
        // which apply.
        std::vector<std::string> parts;
        for (const auto& license : info.licenses) {
            parts.push_back(info.licenses.size() == 1 ? license : fmt::format("({})", license));
        }
        if (!parts.empty()) {
            facts.license = sbom::spdx_expression(fmt::format("{}", fmt::join(parts, " AND ")));
        }
    }
    return facts;
}

const Alpine& distro() {
    static const Alpine alpine;
    return alpine;
}

manifest::Distro Alpine::id() const {
    return manifest::Distro::alpine;
}

std::string_view Alpine::example_release() const {
    return "v3.19";
}

std::optional<manifest::Diagnostic>
Alpine::check_request(const manifest::PackageRequest& package) const {
    if (package.version.empty()) {
        return std::nullopt; // `name@tag`
    }
    const auto op =
        package.relation.empty() ? std::optional(Op::equal) : parse_operator(package.relation);
    if (!op || *op == Op::checksum) {
        return manifest::Diagnostic{
            package.where, fmt::format("`{}` is not a version relation of apk", package.relation),
            "write `=`, `<`, `<=`, `>`, `>=`, `~` (same leading version parts), `>~` or `<~`"};
    }
    if (is_valid_version(package.version)) {
        return std::nullopt;
    }
    return manifest::Diagnostic{
        package.where,
        fmt::format("version `{}` of `{}` is not an apk version", package.version, package.name),
        "apk versions look like 1.2.4_git20230717-r4 (numbers, an optional letter, suffixes "
        "such as _rc1 or _p2, and -rN); `distill plan` lists the versions the sources offer"};
}

std::vector<Repository> Alpine::repositories(const manifest::Manifest& manifest) const {
    return make_repositories(manifest,
                             {[](const std::string& /*suite*/) { return default_mirror(); },
                              [] {
                                  return default_keyring();
                              }});
}

IndexSet Alpine::fetch_indexes(const std::vector<Repository>& repositories, const std::string& arch,
                               Context& context) const {
    IndexSet set;
    set.arch = arch;
    for (const auto& repository : repositories) {
        for (const auto& component : repository.components) {
            with_context(
                fmt::format("reading {} {} of {}", repository.suite, component, repository.url),
                [&] {
                    set.indexes.push_back(
                        fetch_index(repository, component, arch, context, set.stats));
                });
        }
    }
    return set;
}

std::string Alpine::component_hint(const std::string& package,
                                   const sources::UnusedIndex& where) const {
    return fmt::format("{} is in {} of {}, which this manifest does not use; add it under "
                       "`components` of that source",
                       package, where.index.component, where.repository.suite);
}

std::optional<std::string> Alpine::identity_problem(std::string_view name, std::string_view version,
                                                    std::string_view arch) const {
    if (!valid_package_name(facts(manifest::Distro::alpine), name)) {
        return fmt::format("package name `{}` is not an apk package name", core::printable(name));
    }
    if (!is_valid_version(version)) {
        return fmt::format("version `{}` of {} is not an apk version", core::printable(version),
                           name);
    }
    if (arch != "noarch" && find_arch(manifest::Distro::alpine, arch) == nullptr) {
        return fmt::format("architecture `{}` of {} is not an Alpine architecture",
                           core::printable(arch), name);
    }
    return std::nullopt;
}

void Alpine::check_identity(const unpack::UnpackedPackage& contents, std::string_view label,
                            std::string_view name, std::string_view version,
                            std::string_view arch) const {
    const auto info = parse_pkginfo(contents.control, fmt::format("{}: .PKGINFO", label));
    // The package database is written from .PKGINFO: it must name the package that the
    // verified index (or the lock) chose, or the database would list another one.
    const auto differs = [&](std::string_view field, std::string_view own,
                             std::string_view planned) {
        if (own != planned) {
            throw VerificationError(fmt::format(
                "{}: the package's .PKGINFO says {} `{}`, but the index or lock that chose it "
                "says `{}`",
                label, field, core::printable(own), core::printable(planned)));
        }
    };
    differs("pkgname", info.pkgname, name);
    differs("pkgver", info.pkgver, version);
    if (info.arch != "noarch") {
        differs("arch", info.arch, arch);
    }
}

const resolve::solv::IndexLoader& Alpine::index_loader() const {
    static const PoolLoader loader;
    return loader;
}

std::span<const PolicyRule> Alpine::exclusion_rules() const {
    return alpine::exclusion_rules();
}

std::optional<std::string> Alpine::installer_by_index(const IndexFacts& /*facts*/) const {
    // No Alpine package is known to download its content at install time.
    return std::nullopt;
}

const unpack::Reader& Alpine::reader() const {
    static const ApkReader reader;
    return reader;
}

void Alpine::check_download(const std::filesystem::path& file, const package::Record& record,
                            const std::string& url) const {
    check_package_file(file, record.checksum, fmt::format("{}: {}", package::label(record), url));
}

std::optional<std::string>
Alpine::installer_by_package(const unpack::UnpackedPackage& /*package*/) const {
    return std::nullopt;
}

bool Alpine::merged_usr(const std::string& /*release*/) const {
    // Alpine keeps /bin, /sbin and /lib apart from /usr.
    return false;
}

std::string Alpine::os_release(const manifest::Manifest& manifest) const {
    return fmt::format("NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID={}\nPRETTY_NAME=\"Distroless "
                       "(Alpine Linux {})\"\nHOME_URL=\"https://alpinelinux.org/\"\n",
                       version_id(manifest.release), manifest.release);
}

std::vector<std::pair<std::string, std::string>>
Alpine::release_files(const manifest::Manifest& manifest) const {
    // Trivy knows an Alpine image by this file (the alpine-release package ships it).
    return {{"etc/alpine-release", version_id(manifest.release) + "\n"}};
}

std::vector<std::pair<std::string, std::string>>
Alpine::package_manager_files(const manifest::Manifest& manifest) const {
    std::string lines;
    std::map<std::string, std::string> keys; // file name -> PEM
    for (const auto& repository : repositories(manifest)) {
        for (const auto& component : repository.components) {
            lines += fmt::format("{}{}/{}/{}\n",
                                 repository.tag.empty() ? "" : "@" + repository.tag + " ",
                                 repository.url, repository.suite, component);
        }
        // The keys of the keyring that verified the indexes, as /etc/apk/keys holds them.
        keys.merge(load_keyring(repository.keyring).keys);
    }
    std::vector<std::pair<std::string, std::string>> files{{"etc/apk/repositories", lines}};
    for (auto& [name, content] : keys) {
        files.emplace_back("etc/apk/keys/" + unpack::Tree::normalise(name, "the keyring"),
                           std::move(content));
    }
    return files;
}

std::string_view Alpine::openssl_directory() const {
    // Alpine's OpenSSL looks in /etc/ssl only.
    return "";
}

std::vector<std::string> Alpine::add_alternatives(unpack::Tree& tree) const {
    // apk has no alternatives mechanism; packages ship their links. The one maintainer script
    // whose links an image needs is busybox's (`busybox --install -s`), and busybox is in the
    // image only when the manifest asks for it (a debug image).
    return add_busybox_links(tree);
}

std::size_t Alpine::write_package_database(unpack::Tree& tree) const {
    return write_installed_database(tree);
}

std::string_view Alpine::package_database() const {
    return k_installed;
}

std::vector<InstalledPackage> Alpine::read_package_database(std::string_view text) const {
    return read_installed_database(text);
}

int Alpine::compare_versions(std::string_view a, std::string_view b) const {
    return alpine::compare_versions(a, b);
}

std::optional<Fixes> Alpine::changelog_fixes(const std::string& /*package*/,
                                             std::span<const std::string> /*candidates*/,
                                             const ContentsOf& /*contents*/,
                                             std::string_view /*older*/, std::string_view /*newer*/,
                                             std::string& note) const {
    note = "Alpine packages carry no changelog; see the aports history of the package";
    return std::nullopt;
}

} // namespace distill::distro::alpine
