#include <algorithm>
#include <charconv>
#include <map>

#include <fmt/format.h>

#include <distill/assemble/assemble.hpp>
#include <distill/assemble/certificates.hpp>
#include <distill/core/fs.hpp>
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
    for (const auto& account : accounts_for(manifest)) {
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

void add_system_files(Tree& tree, const manifest::Manifest& manifest) {
    // base-files ships /etc/os-release (a link to /usr/lib/os-release); without it, say what
    // the image is built from, so that scanners can tell.
    if (tree.find("etc/os-release") == nullptr && tree.find("usr/lib/os-release") == nullptr) {
        const bool debian = manifest.distro == manifest::Distro::debian;
        tree.put_file("etc/os-release",
                      fmt::format("PRETTY_NAME=\"Distroless ({} {})\"\nNAME=\"{}\"\nID={}\n"
                                  "VERSION_CODENAME={}\nHOME_URL=\"{}\"\n",
                                  manifest::to_string(manifest.distro), manifest.release,
                                  debian ? "Debian GNU/Linux" : "Alpine Linux",
                                  manifest::to_string(manifest.distro), manifest.release,
                                  debian ? "https://www.debian.org/" : "https://alpinelinux.org/"));
    }
    tree.put_directory("tmp", 01777);
    if (tree.find("etc/nsswitch.conf") == nullptr) {
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
        tree.put_symlink("etc/localtime", "/usr/share/zoneinfo/Etc/UTC");
        tree.put_file("etc/timezone", "Etc/UTC\n");
    }
}

void add_certificates(Tree& tree, const manifest::Manifest& manifest, std::int64_t epoch,
                      Summary& summary) {
    std::vector<Certificate> certificates;
    // update-ca-certificates takes every certificate below /usr/share/ca-certificates (all are
    // enabled on a fresh install), in C-locale order, which is the tree's order.
    for (const auto& [path, entry] : tree.entries()) {
        if (path.starts_with("usr/share/ca-certificates/") && path.ends_with(".crt") &&
            entry.type == EntryType::file) {
            auto found = read_pem_certificates(
                tree.read(path),
                path.substr(std::string_view("usr/share/ca-certificates/").size()));
            certificates.insert(certificates.end(), found.begin(), found.end());
        }
    }
    for (const auto& file : manifest.certificates) {
        auto found = read_pem_certificates(core::read_file(file.value), file.value);
        if (found.empty()) {
            throw Error(fmt::format("{}: no PEM certificate in the file (named at {})", file.value,
                                    file.where.str()));
        }
        certificates.insert(certificates.end(), found.begin(), found.end());
    }
    bool has_jvm = false;
    for (const auto& [path, entry] : tree.entries()) {
        if (unpack::path_glob_match("/usr/lib/jvm/*/lib/security/cacerts", "/" + path)) {
            has_jvm = true;
            break;
        }
    }
    if (!certificates.empty()) {
        tree.put_file("etc/ssl/certs/ca-certificates.crt", pem_bundle(certificates));
        summary.ca_certificates = certificates.size();
    }
    // The JVM's lib/security/cacerts links here; ca-certificates-java would have built it.
    if (has_jvm) {
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
    Summary summary;
    add_accounts(tree, manifest, summary);
    add_system_files(tree, manifest);
    add_certificates(tree, manifest, epoch, summary);
    summary.alternatives = add_alternatives(tree);
    add_files(tree, manifest);
    summary.database_packages = write_package_database(tree);
    reporter.debug(fmt::format("accounts: {}", fmt::join(summary.accounts, ", ")));
    for (const auto& link : summary.alternatives) {
        reporter.debug(fmt::format("alternative: {}", link));
    }
    return summary;
}

} // namespace distill::assemble
