#include <algorithm>
#include <array>
#include <cctype>

#include <fmt/format.h>

#include <distill/distro/debian/control.hpp>
#include <distill/distro/debian/installers.hpp>

namespace distill::distro::debian {
namespace {

// The signs, as data. A package that depends on a downloader and calls itself an installer
// or a downloader (in its name's last word or its synopsis) looks like one from the index
// alone: ttf-mscorefonts-installer, firmware-b43-installer, the google-android-*-installer
// family, "Astrometry.net 2MASS index files downloader", "DVD-Video playing library -
// installer". Its own maintainer scripts prove it: one that runs a downloader, or a list of
// files to download in update-notifier's package-data-downloads directory.
constexpr std::array<std::string_view, 4> k_downloader_packages{"wget", "wget2", "curl", "aria2"};
constexpr std::array<std::string_view, 4> k_downloader_programs{"wget", "wget2", "curl", "aria2c"};
constexpr std::array<std::string_view, 2> k_installer_words{"installer", "downloader"};
constexpr std::array<std::string_view, 3> k_install_scripts{"preinst", "config", "postinst"};
constexpr std::string_view k_download_lists = "usr/share/package-data-downloads/";

bool word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.' ||
           c == '+';
}

/// The words of `text` in the sense of package and program names.
std::vector<std::string> words_of(std::string_view text) {
    std::vector<std::string> words;
    std::string word;
    for (const char c : text) {
        if (word_char(c)) {
            word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        } else if (!word.empty()) {
            words.push_back(std::move(word));
            word.clear();
        }
    }
    if (!word.empty()) {
        words.push_back(std::move(word));
    }
    return words;
}

template <typename Names>
std::optional<std::string> first_of(const Names& names, std::span<const std::string> among) {
    for (const auto& candidate : among) {
        if (std::find(names.begin(), names.end(), candidate) != names.end()) {
            return candidate;
        }
    }
    return std::nullopt;
}

/// The installer word the package calls itself by: the last part of its name, or a word of
/// its synopsis.
std::optional<std::string> installer_word(std::string_view name, std::string_view summary) {
    for (const auto word : k_installer_words) {
        if (name.ends_with(fmt::format("-{}", word))) {
            return std::string(word);
        }
    }
    // Hyphens split words here: "downloader" in "index files downloader (2'-2.8')".
    std::string spaced(summary);
    std::replace(spaced.begin(), spaced.end(), '-', ' ');
    const auto words = words_of(spaced);
    for (const auto word : k_installer_words) {
        if (std::find(words.begin(), words.end(), word) != words.end()) {
            return std::string(word);
        }
    }
    return std::nullopt;
}

/// The text of a shell script without its comments.
std::string without_comments(std::string_view script) {
    std::string out;
    for (const auto& line : split_lines(script)) {
        if (!line.starts_with('#')) {
            out += line;
            out += '\n';
        }
    }
    return out;
}

/// "depends on wget and calls itself an installer", when the index's signs are there.
std::optional<std::string> index_signs(const IndexFacts& facts) {
    const auto downloader = first_of(k_downloader_packages, facts.depends);
    if (!downloader) {
        return std::nullopt;
    }
    const auto word = installer_word(facts.name, facts.summary);
    if (!word) {
        return std::nullopt;
    }
    return fmt::format("depends on {} and calls itself {} {}", *downloader,
                       *word == "installer" ? "an" : "a", *word);
}

} // namespace

std::optional<std::string> installer_by_index(const IndexFacts& facts) {
    const auto signs = index_signs(facts);
    if (!signs) {
        return std::nullopt;
    }
    return "it " + *signs;
}

std::optional<std::string> installer_by_package(const PackageFacts& facts) {
    for (const auto& path : facts.paths) {
        std::string_view clean = path;
        while (clean.starts_with("./") || clean.starts_with("/")) {
            clean.remove_prefix(clean.starts_with("./") ? 2 : 1);
        }
        if (clean.starts_with(k_download_lists) && clean.size() > k_download_lists.size()) {
            return fmt::format("it lists files to download at install time in /{}", clean);
        }
    }
    if (facts.scripts.empty()) {
        return std::nullopt;
    }
    for (const auto name : k_install_scripts) {
        const auto script = facts.scripts.find(std::string(name));
        if (script == facts.scripts.end()) {
            continue;
        }
        const auto words = words_of(without_comments(script->second));
        for (const auto program : k_downloader_programs) {
            if (std::find(words.begin(), words.end(), program) != words.end()) {
                return fmt::format("its {} runs {}", name, program);
            }
        }
    }
    // No downloader in the scripts themselves: they may run one through a helper the package
    // ships (a Makefile, a fetch script). The index's signs then tell, now that it is known
    // the package has scripts to run.
    std::string control_name;
    std::string summary;
    std::vector<std::string> depends;
    try {
        const auto paragraphs = parse_paragraphs(facts.control, "control");
        if (paragraphs.empty()) {
            return std::nullopt;
        }
        const auto& control = paragraphs.front();
        control_name = control.value_or("Package", "");
        const auto description = control.value_or("Description", "");
        summary = description.substr(0, description.find('\n'));
        for (const char* field : {"Depends", "Pre-Depends"}) {
            auto names = dependency_names(control.value_or(field, ""));
            depends.insert(depends.end(), names.begin(), names.end());
        }
    } catch (const ControlError&) {
        return std::nullopt;
    }
    const auto signs = index_signs(IndexFacts{control_name, summary, depends});
    if (!signs) {
        return std::nullopt;
    }
    const auto first = std::find_if(
        k_install_scripts.begin(), k_install_scripts.end(),
        [&](std::string_view name) { return facts.scripts.contains(std::string(name)); });
    if (first == k_install_scripts.end()) {
        return std::nullopt;
    }
    return fmt::format("it has a {} script, {}", *first, *signs);
}

std::span<const std::string_view> install_scripts() {
    return k_install_scripts;
}

std::vector<std::string> dependency_names(std::string_view field) {
    std::vector<std::string> names;
    std::string name;
    bool in_name = true; // between a separator and the end of the name that follows it
    const auto end_name = [&] {
        if (!name.empty()) {
            names.push_back(std::move(name));
            name.clear();
        }
    };
    for (const char c : field) {
        if (c == ',' || c == '|') {
            end_name();
            in_name = true;
        } else if (!in_name) {
            continue; // a version, an architecture qualifier or restriction
        } else if (std::isspace(static_cast<unsigned char>(c)) != 0 || c == '(' || c == ':' ||
                   c == '[' || c == '<') {
            in_name = name.empty();
            end_name();
        } else {
            name += c;
        }
    }
    end_name();
    return names;
}

} // namespace distill::distro::debian
