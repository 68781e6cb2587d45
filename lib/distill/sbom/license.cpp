#include <algorithm>
#include <array>
#include <cstddef>
#include <set>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <distill/core/text.hpp>
#include <distill/sbom/license.hpp>

namespace distill::sbom {
namespace {

/// The SPDX licence identifiers distill states, in SPDX's spelling. A licence outside this list
/// is stated as NOASSERTION rather than guessed.
constexpr std::array k_licenses = {
    "0BSD",
    "AFL-2.1",
    "AGPL-3.0-only",
    "AGPL-3.0-or-later",
    "Apache-1.0",
    "Apache-1.1",
    "Apache-2.0",
    "APSL-2.0",
    "Artistic-1.0",
    "Artistic-1.0-Perl",
    "Artistic-2.0",
    "Beerware",
    "BSD-1-Clause",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "BSD-3-Clause-Clear",
    "BSD-4-Clause",
    "BSL-1.0",
    "bzip2-1.0.6",
    "CC-BY-3.0",
    "CC-BY-4.0",
    "CC-BY-SA-3.0",
    "CC-BY-SA-4.0",
    "CC0-1.0",
    "CDDL-1.0",
    "CDDL-1.1",
    "CPL-1.0",
    "curl",
    "EPL-1.0",
    "EPL-2.0",
    "EUPL-1.2",
    "FSFAP",
    "FSFUL",
    "FSFULLR",
    "FTL",
    "GFDL-1.2-only",
    "GFDL-1.2-or-later",
    "GFDL-1.3-only",
    "GFDL-1.3-or-later",
    "GPL-1.0-only",
    "GPL-1.0-or-later",
    "GPL-2.0-only",
    "GPL-2.0-or-later",
    "GPL-3.0-only",
    "GPL-3.0-or-later",
    "HPND",
    "ICU",
    "IJG",
    "Info-ZIP",
    "ISC",
    "LGPL-2.0-only",
    "LGPL-2.0-or-later",
    "LGPL-2.1-only",
    "LGPL-2.1-or-later",
    "LGPL-3.0-only",
    "LGPL-3.0-or-later",
    "Libpng",
    "libpng-2.0",
    "MIT",
    "MIT-0",
    "MPL-1.1",
    "MPL-2.0",
    "NCSA",
    "NTP",
    "OFL-1.1",
    "OpenSSL",
    "PHP-3.01",
    "PostgreSQL",
    "PSF-2.0",
    "Python-2.0",
    "Ruby",
    "Sleepycat",
    "TCL",
    "Unicode-3.0",
    "Unicode-DFS-2016",
    "Unlicense",
    "UPL-1.0",
    "Vim",
    "W3C",
    "WTFPL",
    "X11",
    "Zlib",
    "ZPL-2.1",
};

/// The SPDX licence exceptions distill states after WITH.
constexpr std::array k_exceptions = {
    "Autoconf-exception-2.0",  "Autoconf-exception-3.0", "Bison-exception-2.2",
    "Classpath-exception-2.0", "Font-exception-2.0",     "GCC-exception-2.0",
    "GCC-exception-3.1",       "LLVM-exception",         "Libtool-exception",
};

/// Debian's short licence names (copyright-format 1.0) that are not SPDX identifiers as they
/// stand, with the identifier they stand for; "+" is "or any later version".
constexpr std::array<std::pair<std::string_view, std::string_view>, 42> k_debian_names = {{
    {"expat", "MIT"},
    {"gpl-1", "GPL-1.0-only"},
    {"gpl-1+", "GPL-1.0-or-later"},
    {"gpl-2", "GPL-2.0-only"},
    {"gpl-2+", "GPL-2.0-or-later"},
    {"gpl-3", "GPL-3.0-only"},
    {"gpl-3+", "GPL-3.0-or-later"},
    {"lgpl-2", "LGPL-2.0-only"},
    {"lgpl-2+", "LGPL-2.0-or-later"},
    {"lgpl-2.1", "LGPL-2.1-only"},
    {"lgpl-2.1+", "LGPL-2.1-or-later"},
    {"lgpl-3", "LGPL-3.0-only"},
    {"lgpl-3+", "LGPL-3.0-or-later"},
    {"agpl-3", "AGPL-3.0-only"},
    {"agpl-3+", "AGPL-3.0-or-later"},
    {"gfdl-1.2", "GFDL-1.2-only"},
    {"gfdl-1.2+", "GFDL-1.2-or-later"},
    {"gfdl-1.3", "GFDL-1.3-only"},
    {"gfdl-1.3+", "GFDL-1.3-or-later"},
    {"bsd-2-clause", "BSD-2-Clause"},
    {"bsd-3-clause", "BSD-3-Clause"},
    {"bsd-4-clause", "BSD-4-Clause"},
    {"artistic", "Artistic-1.0-Perl"},
    {"artistic-1", "Artistic-1.0"},
    {"artistic-2", "Artistic-2.0"},
    {"apache-2", "Apache-2.0"},
    {"mpl-2", "MPL-2.0"},
    {"psf-2", "PSF-2.0"},
    {"python-2", "Python-2.0"},
    {"zope-2.1", "ZPL-2.1"},
    {"cc0", "CC0-1.0"},
    {"public-domain-cc0", "CC0-1.0"},
    // Spellings older copyright files use for the same licences.
    {"gplv2", "GPL-2.0-only"},
    {"gplv2+", "GPL-2.0-or-later"},
    {"gplv3", "GPL-3.0-only"},
    {"gplv3+", "GPL-3.0-or-later"},
    {"lgplv2", "LGPL-2.0-only"},
    {"lgplv2+", "LGPL-2.0-or-later"},
    {"lgplv2.1", "LGPL-2.1-only"},
    {"lgplv2.1+", "LGPL-2.1-or-later"},
    {"lgplv3", "LGPL-3.0-only"},
    {"lgplv3+", "LGPL-3.0-or-later"},
}};

/// Debian's names of licence exceptions ("GPL-3+ with GCC-exception-3.1 exception"), lowercase.
constexpr std::array<std::pair<std::string_view, std::string_view>, 10> k_debian_exceptions = {{
    {"gcc-exception-3.1", "GCC-exception-3.1"},
    {"gcc-exception", "GCC-exception-3.1"},
    {"gcc-exception-2.0", "GCC-exception-2.0"},
    {"classpath", "Classpath-exception-2.0"},
    {"classpath-exception-2.0", "Classpath-exception-2.0"},
    {"font", "Font-exception-2.0"},
    {"libtool", "Libtool-exception"},
    {"bison", "Bison-exception-2.2"},
    {"llvm", "LLVM-exception"},
    {"llvm-exception", "LLVM-exception"},
}};

constexpr std::size_t k_max_copyright = std::size_t{1} << 20U;
constexpr std::size_t k_max_paragraphs = 4096;

template <typename List>
std::optional<std::string> spelled(const List& list, std::string_view name) {
    const auto lower = core::lowercase(name);
    for (const char* known : list) {
        if (core::lowercase(known) == lower) {
            return std::string(known);
        }
    }
    return std::nullopt;
}

/// One licence of a Debian `License:` line: a short name, "+" for later versions.
std::optional<std::string> debian_license(std::string_view name) {
    const auto lower = core::lowercase(name);
    for (const auto& [debian, spdx] : k_debian_names) {
        if (lower == debian) {
            return std::string(spdx);
        }
    }
    return spelled(k_licenses, name);
}

std::vector<std::string> words(std::string_view text) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) {
            ++i;
        }
        const auto start = i;
        while (i < text.size() && text[i] != ' ' && text[i] != '\t') {
            ++i;
        }
        if (i > start) {
            out.emplace_back(text.substr(start, i - start));
        }
    }
    return out;
}

/// A Debian `License:` first line as an SPDX expression: licences joined by "and" / "or", each
/// perhaps "with NAME exception". A comma (DEP-5's lower-precedence grouping) or anything
/// unknown gives nullopt.
std::optional<std::string> debian_expression(std::string_view line) {
    if (line.find(',') != std::string_view::npos || line.find('(') != std::string_view::npos) {
        return std::nullopt;
    }
    const auto tokens = words(line);
    std::vector<std::string> out;
    bool want_license = true;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        const auto word = core::lowercase(tokens[i]);
        if (want_license) {
            auto license = debian_license(tokens[i]);
            if (!license) {
                return std::nullopt;
            }
            out.push_back(std::move(*license));
            want_license = false;
        } else if (word == "and" || word == "or") {
            out.emplace_back(word == "and" ? "AND" : "OR");
            want_license = true;
        } else if (word == "with" && i + 2 < tokens.size() &&
                   core::lowercase(tokens[i + 2]) == "exception") {
            const auto name = core::lowercase(tokens[i + 1]);
            const auto found = std::find_if(k_debian_exceptions.begin(), k_debian_exceptions.end(),
                                            [&](const auto& known) { return known.first == name; });
            if (found == k_debian_exceptions.end()) {
                return std::nullopt;
            }
            out.emplace_back("WITH");
            out.emplace_back(found->second);
            i += 2;
        } else {
            return std::nullopt;
        }
    }
    if (out.empty() || want_license) {
        return std::nullopt;
    }
    return fmt::format("{}", fmt::join(out, " "));
}

} // namespace

std::optional<std::string> license_from_copyright(std::string_view copyright) {
    if (copyright.size() > k_max_copyright) {
        return std::nullopt;
    }
    // Paragraphs are separated by blank lines; a field's first line is "Name: value".
    std::vector<std::string_view> lines;
    std::size_t start = 0;
    while (start <= copyright.size()) {
        const auto end = copyright.find('\n', start);
        const auto stop = end == std::string_view::npos ? copyright.size() : end;
        lines.push_back(copyright.substr(start, stop - start));
        if (end == std::string_view::npos) {
            break;
        }
        start = end + 1;
    }
    bool machine_readable = false;
    bool first_paragraph = true;
    bool in_files = false;
    bool in_paragraph = false;
    std::size_t paragraphs = 0;
    std::set<std::string> found;
    std::vector<std::string> order;
    for (auto line : lines) {
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (core::trim(line).empty()) {
            if (in_paragraph) {
                first_paragraph = false;
                in_paragraph = false;
                if (++paragraphs > k_max_paragraphs) {
                    return std::nullopt;
                }
            }
            in_files = false;
            continue;
        }
        in_paragraph = true;
        if (line.front() == ' ' || line.front() == '\t' || line.front() == '#') {
            continue; // a continuation line or a comment
        }
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) {
            continue;
        }
        const auto field = core::lowercase(line.substr(0, colon));
        const auto value = core::trim(line.substr(colon + 1));
        if (first_paragraph && field == "format") {
            machine_readable = value.find("copyright-format/1.0") != std::string_view::npos ||
                               value.find("dep5") != std::string_view::npos;
        }
        if (field == "files") {
            in_files = true;
        }
        // The header's License applies to the whole package; each Files paragraph's to its
        // files. Standalone License paragraphs only give the texts.
        if (field == "license" && (in_files || first_paragraph)) {
            auto expression = debian_expression(value);
            if (!expression) {
                return std::nullopt;
            }
            if (found.insert(*expression).second) {
                order.push_back(std::move(*expression));
            }
        }
    }
    if (!machine_readable || order.empty()) {
        return std::nullopt;
    }
    std::sort(order.begin(), order.end());
    if (order.size() == 1) {
        return order.front();
    }
    std::vector<std::string> parts;
    for (const auto& expression : order) {
        const bool compound = expression.find(' ') != std::string::npos;
        parts.push_back(compound ? fmt::format("({})", expression) : expression);
    }
    return fmt::format("{}", fmt::join(parts, " AND "));
}

std::optional<std::string> spdx_expression(std::string_view expression) {
    // Tokens: identifiers, AND, OR, WITH (followed by an exception), parentheses.
    std::string spaced;
    for (const char c : expression) {
        if (c == '(' || c == ')') {
            spaced += ' ';
            spaced += c;
            spaced += ' ';
        } else {
            spaced += c;
        }
    }
    const auto tokens = words(spaced);
    if (tokens.empty() || tokens.size() > 256) {
        return std::nullopt;
    }
    std::vector<std::string> out;
    int depth = 0;
    bool want_operand = true;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        const auto& token = tokens[i];
        const auto upper = core::lowercase(token);
        if (token == "(") {
            if (!want_operand) {
                return std::nullopt;
            }
            ++depth;
            out.push_back(token);
        } else if (token == ")") {
            if (want_operand || --depth < 0) {
                return std::nullopt;
            }
            out.push_back(token);
        } else if (upper == "and" || upper == "or") {
            if (want_operand) {
                return std::nullopt;
            }
            out.emplace_back(upper == "and" ? "AND" : "OR");
            want_operand = true;
        } else if (upper == "with") {
            if (want_operand || i + 1 >= tokens.size()) {
                return std::nullopt;
            }
            auto exception = spelled(k_exceptions, tokens[++i]);
            if (!exception) {
                return std::nullopt;
            }
            out.emplace_back("WITH");
            out.push_back(std::move(*exception));
        } else {
            if (!want_operand) {
                return std::nullopt;
            }
            auto license = spelled(k_licenses, token);
            if (!license) {
                return std::nullopt;
            }
            out.push_back(std::move(*license));
            want_operand = false;
        }
    }
    if (want_operand || depth != 0) {
        return std::nullopt;
    }
    std::string text;
    for (const auto& token : out) {
        if (!text.empty() && token != ")" && text.back() != '(') {
            text += ' ';
        }
        text += token;
    }
    return text;
}

} // namespace distill::sbom
