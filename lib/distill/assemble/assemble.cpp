#include <algorithm>
#include <charconv>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>

#include <distill/assemble/assemble.hpp>
#include <distill/assemble/certificates.hpp>
#include <distill/core/fs.hpp>
#include <distill/distro/distro.hpp>
#include <distill/unpack/path_policy.hpp>

namespace distill::assemble {
namespace {

using unpack::EntryType;
using unpack::Tree;

/// "/home/nonroot" -> "home/nonroot".
std::string relative(const std::string& absolute) {
    return Tree::normalise(absolute.substr(absolute.find_first_not_of('/')), "the manifest");
}

void add_accounts(Tree& tree, const manifest::Manifest& manifest, Summary& summary) {
    std::string passwd;
    std::string group;
    std::vector<std::uint32_t> groups;
    const auto accounts = accounts_for(manifest);
    std::vector<std::string> names;
    names.reserve(accounts.size());
    for (const auto& account : accounts) {
        names.push_back(fmt::format("{} ({})", account.name, account.uid));
    }
    const Tree::Explaining why(tree,
                               fmt::format("the image's accounts: {}", fmt::join(names, ", ")));
    for (const auto& account : accounts) {
        const auto gid = account.gid.value_or(account.uid);
        passwd += fmt::format("{}:x:{}:{}:{}:{}:{}\n", account.name, account.uid, gid, account.name,
                              account.home, account.shell);
        if (std::find(groups.begin(), groups.end(), gid) == groups.end()) {
            group += fmt::format("{}:x:{}:\n", account.name, gid);
            groups.push_back(gid);
        }
        summary.accounts.push_back(account.name);
        // Homes exist and belong to their user; nobody's conventional home must not exist.
        if (account.home != "/nonexistent" && account.home != "/") {
            tree.put_directory(relative(account.home), 0700, account.uid, gid);
        }
    }
    tree.put_file("etc/passwd", passwd);
    tree.put_file("etc/group", group);
}

void add_system_files(Tree& tree, const manifest::Manifest& manifest,
                      const distro::Distro& distro) {
    // A base package ships /etc/os-release (a link to /usr/lib/os-release); without it, say
    // what the image is built from, so that scanners can tell.
    if (tree.find("etc/os-release") == nullptr && tree.find("usr/lib/os-release") == nullptr) {
        const Tree::Explaining why(
            tree, "what the image is built from, for scanners: no package ships os-release");
        tree.put_file("etc/os-release", distro.os_release(manifest));
    }
    for (const auto& [path, content] : distro.release_files(manifest)) {
        if (tree.find(path) == nullptr) {
            const Tree::Explaining why(
                tree, "the release the image is built from, for scanners: no package ships it");
            tree.put_file(path, content);
        }
    }
    {
        const Tree::Explaining why(tree, "the temporary directory, writable by all (sticky)");
        tree.put_directory("tmp", 01777);
    }
    if (tree.find("etc/nsswitch.conf") == nullptr) {
        const Tree::Explaining why(
            tree, "where the C library looks names up: local files, then DNS for hosts");
        tree.put_file("etc/nsswitch.conf", "passwd:         files\n"
                                           "group:          files\n"
                                           "shadow:         files\n"
                                           "hosts:          files dns\n"
                                           "networks:       files\n"
                                           "protocols:      files\n"
                                           "services:       files\n"
                                           "ethers:         files\n"
                                           "rpc:            files\n");
    }
    // tzdata's maintainer script points /etc/localtime at the configured zone; an image runs
    // in UTC unless TZ says otherwise.
    if (tree.find("usr/share/zoneinfo/Etc/UTC") != nullptr) {
        const Tree::Explaining why(
            tree, "the time zone, UTC, as tzdata's maintainer script would set it");
        tree.put_symlink("etc/localtime", "/usr/share/zoneinfo/Etc/UTC");
        tree.put_file("etc/timezone", "Etc/UTC\n");
    }
}

constexpr std::string_view k_debian_certificates = "usr/share/ca-certificates/";
constexpr std::string_view k_local_certificates = "usr/local/share/ca-certificates/";
constexpr std::string_view k_certificate_directory = "etc/ssl/certs/";
constexpr std::string_view k_bundle = "etc/ssl/certs/ca-certificates.crt";

/// The links of the distro's openssl package (which ca-certificates depends on, and which
/// distill leaves out: it is the command line tool) that make OpenSSL's built-in defaults find
/// the CA certificates where the distro's libssl looks (its OPENSSLDIR): there
/// SSL_CTX_set_default_verify_paths reads cert.pem and looks up certs/<hash>.N. The openssl.cnf
/// there is left out: the library runs the same without the file, whose only library section
/// ([openssl_init]) is empty in Debian's copy; the rest configures the command line tool.
void add_openssl_directory(Tree& tree, const distro::Distro& distro) {
    // Some distros' OpenSSL looks in /etc/ssl itself (Alpine's, where its
    // ca-certificates-bundle puts cert.pem).
    const std::string directory(distro.openssl_directory());
    if (directory.empty()) {
        return;
    }
    // A directory that is not one (a link to /etc/ssl, as the openssl package's postinst makes
    // on old systems) already leads there.
    if (const auto* ssl = tree.find(directory);
        ssl != nullptr && ssl->type != EntryType::directory) {
        return;
    }
    const Tree::Explaining why(
        tree, fmt::format("where OpenSSL looks for CA certificates (/{}), as the openssl "
                          "package (left out) links it",
                          directory));
    tree.put_symlink(directory + "/certs", "/etc/ssl/certs");
    tree.put_symlink(directory + "/cert.pem", fmt::format("/{}", k_bundle));
}

/// `name` with every character outside [A-Za-z0-9._+=-] made '_', so that a file name from the
/// host is a plain file name in the image (and update-ca-certificates would keep its link name).
std::string plain_file_name(std::string_view name) {
    std::string out(name);
    for (char& c : out) {
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') ||
                           std::string_view("._+=-").find(c) != std::string_view::npos;
        if (!plain) {
            c = '_';
        }
    }
    return out;
}

/// The manifest's extra certificates as Debian's local certificates: one file per certificate
/// under /usr/local/share/ca-certificates (update-ca-certificates takes only *.crt there, and
/// rehash links only files of one certificate), named after the manifest's file: "ca.crt",
/// then "ca-2.crt"... for a file of several. A name whose link in /etc/ssl/certs would take the
/// link of a certificate already there gets the next free number instead, so that no
/// certificate loses its link.
std::vector<CertificateFile> local_certificates(const manifest::Manifest& manifest,
                                                std::set<std::string>& link_names) {
    std::vector<CertificateFile> files;
    for (const auto& file : manifest.certificates) {
        const auto found = read_pem_certificates(core::read_file(file.value), file.value);
        if (found.empty()) {
            throw Error(fmt::format("{}: no PEM certificate in the file (named at {})", file.value,
                                    file.where.str()));
        }
        const std::filesystem::path source(file.value);
        auto stem = plain_file_name(source.stem().string());
        if (stem.empty()) {
            stem = "certificate";
        }
        unsigned number = 1;
        for (const auto& certificate : found) {
            std::string path;
            do {
                path = number <= 1
                           ? fmt::format("/{}{}.crt", k_local_certificates, stem)
                           : fmt::format("/{}{}-{}.crt", k_local_certificates, stem, number);
                ++number;
            } while (!link_names.insert(certificate_link_name(path)).second);
            files.push_back({std::move(path), {certificate}});
        }
    }
    return files;
}

void add_certificates(Tree& tree, const manifest::Manifest& manifest, const distro::Distro& distro,
                      std::int64_t epoch, Summary& summary) {
    // update-ca-certificates takes every certificate below /usr/share/ca-certificates (all are
    // enabled on a fresh install), in C-locale order, which is the tree's order.
    std::vector<CertificateFile> files;
    std::set<std::string> link_names;
    for (const auto& [path, entry] : tree.entries()) {
        if (path.starts_with(k_debian_certificates) && path.ends_with(".crt") &&
            entry.type == EntryType::file) {
            files.push_back(
                {"/" + path, read_pem_certificates(tree.read(path),
                                                   path.substr(k_debian_certificates.size()))});
            link_names.insert(certificate_link_name(path));
        }
    }
    const auto debian_files = files.size();
    // Which packages the certificates come from, for what is made of them.
    std::set<std::string> from;
    for (const auto& file : files) {
        if (const auto* entry = tree.find(file.path.substr(1))) {
            from.insert(entry->origin);
        }
    }
    auto local = local_certificates(manifest, link_names);
    files.insert(files.end(), local.begin(), local.end());

    std::vector<Certificate> certificates;
    // Alpine's ca-certificates-bundle ships the bundle itself, not the single certificates:
    // the manifest's join it, and the Java truststore holds them all.
    if (debian_files == 0) {
        if (const auto* shipped = tree.find(std::string(k_bundle));
            shipped != nullptr && shipped->type == EntryType::file) {
            certificates = read_pem_certificates(tree.read(std::string(k_bundle)),
                                                 fmt::format("/{}", k_bundle));
            from.insert(shipped->origin);
        }
    }
    for (const auto& file : files) {
        certificates.insert(certificates.end(), file.certificates.begin(), file.certificates.end());
    }
    bool has_jvm = false;
    for (const auto& [path, entry] : tree.entries()) {
        if (unpack::path_glob_match("/usr/lib/jvm/*/lib/security/cacerts", "/" + path)) {
            has_jvm = true;
            break;
        }
    }
    if (!local.empty()) {
        from.insert("the manifest's certificates");
    }
    const auto sources = fmt::format("{}", fmt::join(from, ", "));
    if (!files.empty()) {
        const Tree::Explaining why(
            tree, fmt::format("the CA bundle and its lookup links, from the CA certificates of "
                              "{}, as update-ca-certificates would make them",
                              sources));
        tree.put_file(std::string(k_bundle), pem_bundle(certificates));
        summary.ca_certificates = certificates.size();
        for (std::size_t i = debian_files; i < files.size(); ++i) {
            const Tree::Explaining mine(
                tree, "a certificate the manifest adds, where update-ca-certificates takes local "
                      "ones");
            tree.put_file(files[i].path.substr(1), pem_bundle(files[i].certificates), 0644, 0, 0,
                          unpack::k_manifest_files);
        }
        // What update-ca-certificates and `openssl rehash` would have left: OpenSSL looks a
        // certificate up in a directory by its subject hash, and finds nothing without these.
        for (const auto& link : certificate_directory(files)) {
            tree.put_symlink(fmt::format("{}{}", k_certificate_directory, link.name), link.target);
            // Name links point at a file's absolute path, hash links at a name beside them.
            if (link.target.starts_with('/')) {
                ++summary.certificate_links;
            } else {
                ++summary.hash_links;
            }
        }
        add_openssl_directory(tree, distro);
    }
    // The JVM's lib/security/cacerts links here; ca-certificates-java would have built it.
    if (has_jvm) {
        const Tree::Explaining why(
            tree, fmt::format("the Java truststore, from the CA certificates of {}, as "
                              "ca-certificates-java would build it",
                              sources));
        tree.put_file("etc/ssl/certs/java/cacerts", java_keystore(certificates, epoch));
        summary.java_truststore = true;
    }
}

void add_files(Tree& tree, const manifest::Manifest& manifest) {
    for (const auto& file : manifest.files) {
        tree.put_host_file(relative(file.destination), file.source, file.mode, file.uid, file.gid);
    }
}

} // namespace

std::vector<manifest::Account> accounts_for(const manifest::Manifest& manifest) {
    std::vector<manifest::Account> accounts;
    for (const auto& builtin : manifest::builtin_accounts()) {
        const auto mine =
            std::find_if(manifest.accounts.begin(), manifest.accounts.end(),
                         [&](const manifest::Account& a) { return a.name == builtin.name; });
        accounts.push_back(mine != manifest.accounts.end() ? *mine : builtin);
    }
    for (const auto& account : manifest.accounts) {
        if (std::none_of(accounts.begin(), accounts.end(),
                         [&](const manifest::Account& a) { return a.name == account.name; })) {
            accounts.push_back(account);
        }
    }
    std::stable_sort(
        accounts.begin(), accounts.end(),
        [](const manifest::Account& a, const manifest::Account& b) { return a.uid < b.uid; });
    return accounts;
}

std::string resolve_user(const manifest::Manifest& manifest) {
    const std::string& user = manifest.config.user;
    for (const auto& account : accounts_for(manifest)) {
        if (account.name == user) {
            return fmt::format("{}:{}", account.uid, account.gid.value_or(account.uid));
        }
    }
    return user; // a uid or uid:gid, validated with the manifest
}

Summary assemble(unpack::Tree& tree, const manifest::Manifest& manifest, std::int64_t epoch,
                 core::Reporter& reporter) {
    const auto& distro = distro::get(manifest.distro);
    Summary summary;
    add_accounts(tree, manifest, summary);
    add_system_files(tree, manifest, distro);
    add_certificates(tree, manifest, distro, epoch, summary);
    summary.alternatives = distro.add_alternatives(tree);
    add_files(tree, manifest);
    summary.database_packages = distro.write_package_database(tree);
    for (const auto& [path, content] : distro.package_manager_files(manifest)) {
        if (const auto* shipped = tree.find(path);
            shipped == nullptr || shipped->origin == unpack::k_generated) {
            const Tree::Explaining why(
                tree, "the package manager's configuration: the manifest's repositories and the "
                      "keys that sign them");
            tree.put_file(path, content);
        }
    }
    reporter.debug(fmt::format("accounts: {}", fmt::join(summary.accounts, ", ")));
    for (const auto& link : summary.alternatives) {
        reporter.debug(fmt::format("alternative: {}", link));
    }
    return summary;
}

} // namespace distill::assemble
