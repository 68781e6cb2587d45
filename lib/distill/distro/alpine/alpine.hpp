#pragma once

#include <distill/distro/distro.hpp>

// Alpine, the second distro: its repositories (APKINDEX.tar.gz signed with RSA keys and checked
// with OpenSSL), .apk packages (named by the SHA-1 of their control part, `C:`), apk's version
// order mapped into the pool, and apk's installed database in the image.
namespace distill::distro::alpine {

/// Alpine as a distill::distro::Distro; everything it does is in the files beside this one.
class Alpine final : public Distro {
public:
    [[nodiscard]] manifest::Distro id() const override;

    [[nodiscard]] std::string_view example_release() const override;
    [[nodiscard]] std::optional<manifest::Diagnostic>
    check_request(const manifest::PackageRequest& request) const override;

    [[nodiscard]] std::vector<sources::Repository>
    repositories(const manifest::Manifest& manifest) const override;
    [[nodiscard]] sources::IndexSet
    fetch_indexes(const std::vector<sources::Repository>& repositories, const std::string& arch,
                  sources::Context& context) const override;
    [[nodiscard]] std::string component_hint(const std::string& package,
                                             const sources::UnusedIndex& where) const override;
    [[nodiscard]] std::optional<std::string> identity_problem(std::string_view name,
                                                              std::string_view version,
                                                              std::string_view arch) const override;
    void check_identity(const unpack::UnpackedPackage& contents, std::string_view label,
                        std::string_view name, std::string_view version,
                        std::string_view arch) const override;

    [[nodiscard]] const resolve::solv::IndexLoader& index_loader() const override;
    [[nodiscard]] std::span<const PolicyRule> exclusion_rules() const override;
    [[nodiscard]] std::optional<std::string>
    installer_by_index(const IndexFacts& facts) const override;

    [[nodiscard]] const unpack::Reader& reader() const override;
    void check_download(const std::filesystem::path& file, const package::Record& record,
                        const std::string& url) const override;
    [[nodiscard]] std::optional<std::string>
    installer_by_package(const unpack::UnpackedPackage& package) const override;
    [[nodiscard]] bool merged_usr(const std::string& release) const override;

    [[nodiscard]] std::string os_release(const manifest::Manifest& manifest) const override;
    [[nodiscard]] std::vector<std::pair<std::string, std::string>>
    release_files(const manifest::Manifest& manifest) const override;
    [[nodiscard]] std::vector<std::pair<std::string, std::string>>
    package_manager_files(const manifest::Manifest& manifest) const override;
    [[nodiscard]] std::string_view openssl_directory() const override;
    std::vector<std::string> add_alternatives(unpack::Tree& tree) const override;
    std::size_t write_package_database(unpack::Tree& tree) const override;

    [[nodiscard]] std::string_view package_database() const override;
    [[nodiscard]] std::vector<InstalledPackage>
    read_package_database(std::string_view text) const override;
    [[nodiscard]] int compare_versions(std::string_view a, std::string_view b) const override;
    [[nodiscard]] sbom::PackageFacts package_facts(const package::Record& record,
                                                   const unpack::Tree& tree) const override;
    [[nodiscard]] std::optional<Fixes>
    changelog_fixes(const std::string& package, std::span<const std::string> candidates,
                    const ContentsOf& contents, std::string_view older, std::string_view newer,
                    std::string& note) const override;
};

/// The one Alpine instance.
[[nodiscard]] const Alpine& distro();

/// The links `busybox --install -s` would make when busybox is in the tree: /bin/busybox at
/// every applet path its package lists (/etc/busybox-paths.d/busybox) where no file is.
/// Returns "link -> target" for each; an UnsafeContentError for a list that is too long or
/// names a path outside the root.
std::vector<std::string> add_busybox_links(unpack::Tree& tree);

} // namespace distill::distro::alpine
