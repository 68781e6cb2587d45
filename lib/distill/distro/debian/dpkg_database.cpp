#include <algorithm>
#include <map>

#include <fmt/format.h>

#include <distill/core/path.hpp>
#include <distill/distro/debian/control.hpp>
#include <distill/distro/debian/dpkg_database.hpp>

namespace distill::distro::debian {
namespace {

using unpack::EntryType;

bool is_file(const unpack::Entry& entry) {
    return entry.type == EntryType::file || entry.type == EntryType::hardlink;
}

/// The paragraph's text with "Status: install ok installed" after Package (dpkg's own field
/// order) and Conffiles before Description.
std::string status_stanza(std::string control, const std::string& conffiles) {
    while (!control.empty() && control.back() == '\n') {
        control.pop_back();
    }
    control += '\n';
    const auto package_end = control.find('\n', control.find("Package:"));
    control.insert(package_end + 1, "Status: install ok installed\n");
    if (!conffiles.empty()) {
        const auto description = control.find("\nDescription:");
        const auto at = description == std::string::npos ? control.size() : description + 1;
        control.insert(at, "Conffiles:\n" + conffiles);
    }
    return control;
}

} // namespace

std::size_t write_package_database(unpack::Tree& tree) {
    struct Written {
        std::string name;
        std::string stanza;
    };
    std::vector<Written> stanzas;
    std::map<std::string, std::pair<std::string, std::string>> info; // file stem -> list, md5sums
    for (const auto& record : tree.packages()) {
        const auto& package = *record.contents;
        const auto paragraphs = parse_paragraphs(package.control, record.name + " control");
        if (paragraphs.empty()) {
            continue;
        }
        const auto& control = paragraphs.front();
        // dpkg names the files of Multi-Arch: same packages with their architecture.
        // The stem names files of the image: it goes through the one check of outside names.
        const std::string stem =
            core::safe_component(control.value_or("Multi-Arch", "") == "same"
                                     ? fmt::format("{}:{}", record.name, record.arch)
                                     : record.name,
                                 "package name in the package database");
        std::string list = "/.\n";
        std::string md5sums;
        for (const auto& shipped : record.paths) {
            const auto* entry = tree.find(shipped.path);
            if (entry == nullptr) {
                continue; // the path policy dropped it
            }
            list += "/" + shipped.shipped + "\n";
            if (is_file(*entry) && shipped.type != EntryType::directory) {
                md5sums += fmt::format("{}  {}\n", entry->md5, shipped.shipped);
            }
        }
        std::string conffiles;
        for (const auto& line : split_lines(package.conffiles)) {
            const auto path = line.substr(0, line.find(' '));
            const auto relative = path.find_first_not_of('/');
            if (path.empty() || path.front() != '/' || relative == std::string::npos) {
                throw Error(fmt::format("{}: control.tar: conffiles: `{}` names no file (each "
                                        "line is an absolute file path)",
                                        package::label(record), line));
            }
            const auto* entry =
                tree.find(unpack::Tree::normalise(path.substr(relative), record.name));
            if (entry != nullptr && is_file(*entry)) {
                conffiles += fmt::format(" {} {}\n", path, entry->md5);
            }
        }
        stanzas.push_back({stem, status_stanza(package.control, conffiles)});
        info[stem] = {std::move(list), std::move(md5sums)};
    }
    std::sort(stanzas.begin(), stanzas.end(),
              [](const Written& a, const Written& b) { return a.name < b.name; });
    std::string status;
    for (const auto& written : stanzas) {
        status += written.stanza + "\n";
    }
    const unpack::Tree::Explaining why(
        tree, "dpkg's package database: exactly the packages and the files in the image");
    tree.put_file(std::string(k_dpkg_status), status);
    tree.put_directory("var/lib/dpkg/info");
    // Format 1 is the multi-arch layout, where Multi-Arch: same packages have "name:arch"
    // files; without this file dpkg assumes the older layout and finds none of them.
    tree.put_file("var/lib/dpkg/info/format", "1\n");
    for (const auto& [stem, files] : info) {
        tree.put_file(fmt::format("var/lib/dpkg/info/{}.list", stem), files.first);
        if (!files.second.empty()) {
            tree.put_file(fmt::format("var/lib/dpkg/info/{}.md5sums", stem), files.second);
        }
    }
    return stanzas.size();
}

std::vector<InstalledPackage> read_package_database(std::string_view status) {
    std::vector<InstalledPackage> packages;
    for (const auto& paragraph : parse_paragraphs(status, k_dpkg_status)) {
        InstalledPackage package;
        package.name = paragraph.value_or("Package", "");
        package.version = paragraph.value_or("Version", "");
        package.arch = paragraph.value_or("Architecture", "");
        // "openssl (3.0.15-1)": a binNMU names the source version too.
        const auto source = paragraph.value_or("Source", package.name);
        package.source = source.substr(0, source.find(' '));
        package.installed_size = std::stoull(paragraph.value_or("Installed-Size", "0")) * 1024U;
        packages.push_back(std::move(package));
    }
    return packages;
}

} // namespace distill::distro::debian
