#include <algorithm>
#include <regex>

#include <distill/distro/debian/changelog.hpp>
#include <distill/distro/debian/version.hpp>

namespace distill::distro::debian {
namespace {

void add_unique(std::vector<std::string>& list, std::string value) {
    if (std::find(list.begin(), list.end(), value) == list.end()) {
        list.push_back(std::move(value));
    }
}

} // namespace

std::vector<ChangelogEntry> parse_changelog(std::string_view text) {
    // Debian policy 4.4: the first line of an entry, and the trailer that ends it.
    static const std::regex header(R"(^(\w[-+0-9a-z.]*) \(([^ ()]+)\) ([^;]*);.*$)");
    std::vector<ChangelogEntry> entries;
    bool inside = false;
    std::size_t start = 0;
    while (start <= text.size()) {
        const auto end = std::min(text.find('\n', start), text.size());
        const std::string line(text.substr(start, end - start));
        start = end + 1;
        std::smatch match;
        if (std::regex_match(line, match, header)) {
            entries.push_back({match[1], match[2], match[3], {}});
            inside = true;
        } else if (line.starts_with(" -- ")) {
            inside = false;
        } else if (inside) {
            entries.back().text += line + "\n";
        }
        if (end == text.size()) {
            break;
        }
    }
    return entries;
}

Fixes fixes_between(const std::vector<ChangelogEntry>& entries, std::string_view older,
                    std::string_view newer) {
    static const std::regex cve(R"(CVE-[0-9]{4}-[0-9]{4,})");
    // Debian policy 5.6.22: how a changelog closes bugs.
    static const std::regex closes(R"(closes:\s*(?:bug)?#?\s?\d+(?:,\s*(?:bug)?#?\s?\d+)*)",
                                   std::regex::icase);
    static const std::regex number(R"(\d+)");
    Fixes fixes;
    for (const auto& entry : entries) {
        if (compare_versions(entry.version, older) <= 0 ||
            compare_versions(entry.version, newer) > 0) {
            continue;
        }
        fixes.versions.push_back(entry.version);
        for (auto it = std::sregex_iterator(entry.text.begin(), entry.text.end(), cve);
             it != std::sregex_iterator(); ++it) {
            add_unique(fixes.cves, it->str());
        }
        for (auto it = std::sregex_iterator(entry.text.begin(), entry.text.end(), closes);
             it != std::sregex_iterator(); ++it) {
            const std::string clause = it->str();
            for (auto n = std::sregex_iterator(clause.begin(), clause.end(), number);
                 n != std::sregex_iterator(); ++n) {
                add_unique(fixes.bugs, n->str());
            }
        }
    }
    return fixes;
}

} // namespace distill::distro::debian
