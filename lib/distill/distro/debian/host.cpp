#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include <distill/core/error.hpp>
#include <distill/core/fs.hpp>
#include <distill/distro/debian/control.hpp>
#include <distill/distro/debian/host.hpp>

namespace distill::distro::debian {
namespace {

std::string strip_slash(std::string url) {
    while (url.ends_with('/')) {
        url.pop_back();
    }
    return url;
}

void read_one_line_file(const std::filesystem::path& path, std::vector<AptEntry>& entries) {
    for (const auto& line : split_lines(core::read_file(path))) {
        if (line.starts_with('#')) {
            continue;
        }
        auto words = split_words(line.substr(0, line.find('#')));
        if (words.size() < 3 || words[0] != "deb") {
            continue;
        }
        words.erase(words.begin());
        AptEntry entry;
        // Options: "[arch=amd64 signed-by=/path]", possibly split over several words.
        if (words.front().starts_with('[')) {
            std::string options;
            while (!words.empty()) {
                options += words.front() + " ";
                const bool last = words.front().ends_with(']');
                words.erase(words.begin());
                if (last) {
                    break;
                }
            }
            for (const auto& option : split_words(options)) {
                const auto clean = option.substr(option.starts_with('[') ? 1 : 0);
                if (clean.starts_with("signed-by=")) {
                    entry.signed_by = clean.substr(10);
                    if (entry.signed_by.ends_with(']')) {
                        entry.signed_by.pop_back();
                    }
                }
            }
        }
        if (words.size() < 2) {
            continue;
        }
        entry.uris = {words[0]};
        entry.suites = {words[1]};
        entry.components.assign(words.begin() + 2, words.end());
        entries.push_back(std::move(entry));
    }
}

void read_deb822_file(const std::filesystem::path& path, std::vector<AptEntry>& entries) {
    for (const auto& paragraph : parse_paragraphs(core::read_file(path), path.string())) {
        const auto types = split_words(paragraph.value_or("Types", ""));
        if (std::find(types.begin(), types.end(), "deb") == types.end() ||
            paragraph.value_or("Enabled", "yes") == "no") {
            continue;
        }
        entries.push_back(AptEntry{split_words(paragraph.value_or("URIs", "")),
                                   split_words(paragraph.value_or("Suites", "")),
                                   split_words(paragraph.value_or("Components", "")),
                                   paragraph.value_or("Signed-By", "")});
    }
}

std::string env(const char* name) {
    const char* value = std::getenv(name);
    return value != nullptr ? strip_slash(value) : std::string();
}

bool has_suite(const AptEntry& entry, const std::string& suite) {
    return std::find(entry.suites.begin(), entry.suites.end(), suite) != entry.suites.end();
}

bool has_security_suite(const AptEntry& entry) {
    return std::any_of(entry.suites.begin(), entry.suites.end(),
                       [](const std::string& s) { return s.ends_with("-security"); });
}

} // namespace

std::vector<AptEntry> read_apt_sources(const std::filesystem::path& etc_apt) {
    std::vector<AptEntry> entries;
    auto try_read = [&](const std::filesystem::path& path, auto reader) {
        try {
            reader(path, entries);
        } catch (const Error&) {
            // The host's configuration is a hint for defaults, not our input: a file we
            // cannot read just contributes nothing.
        }
    };
    std::error_code ec;
    if (std::filesystem::is_regular_file(etc_apt / "sources.list", ec)) {
        try_read(etc_apt / "sources.list", read_one_line_file);
    }
    std::vector<std::filesystem::path> files;
    for (const auto& item : std::filesystem::directory_iterator(etc_apt / "sources.list.d", ec)) {
        files.push_back(item.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
        if (file.extension() == ".list") {
            try_read(file, read_one_line_file);
        } else if (file.extension() == ".sources") {
            try_read(file, read_deb822_file);
        }
    }
    return entries;
}

Mirrors default_mirrors(std::string_view release, const std::filesystem::path& etc_apt) {
    Mirrors mirrors{env("DISTILL_DEBIAN_MIRROR"), env("DISTILL_DEBIAN_SECURITY_MIRROR")};
    if (!mirrors.archive.empty() && !mirrors.security.empty()) {
        return mirrors;
    }
    const auto entries = read_apt_sources(etc_apt);
    const std::string security_suite = std::string(release) + "-security";
    auto pick = [&](auto matches) -> std::string {
        for (const auto& entry : entries) {
            if (matches(entry) && !entry.uris.empty()) {
                return strip_slash(entry.uris.front());
            }
        }
        return {};
    };
    if (mirrors.archive.empty()) {
        mirrors.archive =
            pick([&](const AptEntry& e) { return has_suite(e, std::string(release)); });
    }
    if (mirrors.archive.empty()) {
        mirrors.archive = pick([](const AptEntry& e) { return !has_security_suite(e); });
    }
    if (mirrors.archive.empty()) {
        throw Error(fmt::format(
            "no Debian mirror configured: set DISTILL_DEBIAN_MIRROR, add a Debian entry to {}, "
            "or give sources[].url in the manifest",
            (etc_apt / "sources.list.d").string()));
    }
    if (mirrors.security.empty()) {
        mirrors.security = pick([&](const AptEntry& e) { return has_suite(e, security_suite); });
    }
    if (mirrors.security.empty()) {
        mirrors.security = pick(has_security_suite);
    }
    if (mirrors.security.empty()) {
        mirrors.security = mirrors.archive + "-security";
    }
    return mirrors;
}

} // namespace distill::distro::debian
