#include <array>
#include <charconv>
#include <limits>

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>

#include <distill/core/archive.hpp>
#include <distill/core/error.hpp>
#include <distill/core/text.hpp>
#include <distill/distro/alpine/apkindex.hpp>
#include <distill/distro/facts.hpp>

namespace distill::distro::alpine {
namespace {

/// A package file (or an installation) of a terabyte is no package: such an S: or I: is a
/// broken or hostile index. The Debian scan holds Size to the same bound.
constexpr std::uint64_t k_max_package_size = std::uint64_t{1} << 40U;

/// A C: field: "Q1" and the base64 of a SHA-1 (20 bytes: 27 letters and one `=`).
constexpr std::size_t k_checksum_size = 2 + 28;

constexpr std::size_t k_max_archive_total = std::size_t{256} << 20U;
constexpr std::size_t k_max_archive_entries = 64;
constexpr std::size_t k_max_description = std::size_t{64} << 10U;

/// The value of one base64 letter, or -1.
int base64_value(char c) {
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return -1;
}

/// Whether `value` is "Q1" + the canonical base64 of 20 bytes: apk 2.14 reads no other
/// identity in an index it would install from (`X1` hex and bare MD5 hex are from apk 2.0's
/// era and never in a signed Alpine index), and a non-canonical last letter would let two
/// spellings name one package file.
bool valid_checksum(std::string_view value) {
    if (value.size() != k_checksum_size || !value.starts_with("Q1") || value.back() != '=') {
        return false;
    }
    const auto letters = value.substr(2, 27);
    for (const char c : letters) {
        if (base64_value(c) < 0) {
            return false;
        }
    }
    // 27 letters carry 162 bits, 160 of them data: the last letter's two low bits are padding.
    return (base64_value(letters.back()) & 0x3) == 0;
}

/// Alpine's package name grammar (facts.cpp): its letters, digits and punctuation, starting
/// with a letter or digit. Unlike a manifest's names, an index's may be one letter long:
/// community has the package `R`.
bool valid_index_name(std::string_view name) {
    const auto& alpine = facts(manifest::Distro::alpine);
    if (name.empty() || alpine.name_punctuation.find(name.front()) != std::string_view::npos) {
        return false;
    }
    for (const char c : name) {
        if (!package_name_char(alpine, c)) {
            return false;
        }
    }
    return true;
}

/// A decimal number of plain digits (apk writes no sign, no spaces) that fits in T and is at
/// most `max`.
template <typename T>
std::optional<T> decimal(std::string_view value, T max) {
    if (value.empty() || value.front() < '0' || value.front() > '9') {
        return std::nullopt;
    }
    T result{};
    const auto* end = value.data() + value.size();
    const auto parsed = std::from_chars(value.data(), end, result);
    if (parsed.ec != std::errc() || parsed.ptr != end || result > max) {
        return std::nullopt;
    }
    return result;
}

class Parser {
public:
    Parser(std::string_view origin, const IndexLimits& limits)
        : m_origin(origin)
        , m_limits(limits) {}

    Index parse(std::string_view text) {
        if (text.size() > m_limits.max_total) {
            throw VerificationError(fmt::format("{}: longer than {} bytes; refusing the index",
                                                m_origin, m_limits.max_total));
        }
        while (!text.empty()) {
            const auto newline = text.find('\n');
            const auto line = text.substr(0, newline);
            ++m_line;
            take(line);
            if (newline == std::string_view::npos) {
                break;
            }
            text.remove_prefix(newline + 1);
        }
        // apk drops a last record that no blank line ends; it is taken here, since nothing
        // about it is less checked than the others.
        end_record();
        return std::move(m_index);
    }

private:
    [[noreturn]] void refuse(std::size_t line, std::string_view what) const {
        throw VerificationError(
            fmt::format("{}: line {}: {}; refusing the index", m_origin, line, what));
    }

    [[noreturn]] void refuse_field(char key, std::string_view value, std::string_view why) const {
        refuse(m_line, fmt::format("{}:{}: {}", key, core::printable(value), why));
    }

    void check_text(std::string_view line) const {
        bool ascii = true;
        for (const char c : line) {
            const auto byte = static_cast<unsigned char>(c);
            if (byte < 0x20 || byte == 0x7f) {
                refuse(m_line,
                       fmt::format("`{}` holds a control character", core::printable(line)));
            }
            ascii = ascii && byte < 0x80;
        }
        if (!ascii && !core::is_utf8(line)) {
            refuse(m_line, fmt::format("`{}` is not UTF-8", core::printable(line)));
        }
    }

    void take(std::string_view line) {
        if (line.size() > m_limits.max_line) {
            refuse(m_line, fmt::format("longer than {} bytes", m_limits.max_line));
        }
        if (line.empty()) {
            end_record();
            return;
        }
        check_text(line);
        // apk refuses the whole index for a line that is not `X:value` (apk_db_index_read).
        if (line.size() < 2 || line[1] != ':') {
            refuse(m_line, fmt::format("`{}` is not a field (`X:value`)", core::printable(line)));
        }
        if (!m_open) {
            m_open = true;
            m_entry = IndexEntry{};
            m_entry.line = m_line;
            m_has_checksum = false;
            m_uninstallable = false;
        }
        field(line[0], line.substr(2));
    }

    // The fields apk_pkg_add_info (apk-tools 2.14 src/package.c) reads from an index. A
    // scalar field assigns, so a repeated one keeps its last value; a dependency field
    // appends, so a repeated one adds its tokens.
    void field(char key, std::string_view value) {
        switch (key) {
        case 'P':
            if (value.size() > m_limits.max_name || !valid_index_name(value)) {
                refuse_field(key, value,
                             fmt::format("not a package name (letters, digits, `+-._`, starting "
                                         "with a letter or digit, at most {} bytes)",
                                         m_limits.max_name));
            }
            m_entry.name = value;
            break;
        case 'V':
            if (value.empty() || value.size() > m_limits.max_version ||
                value.find(' ') != std::string_view::npos) {
                refuse_field(
                    key, value,
                    fmt::format("not a version (no spaces, 1 to {} bytes)", m_limits.max_version));
            }
            m_entry.version = value;
            break;
        case 'A':
            if (value.size() > m_limits.max_name || !valid_index_name(value)) {
                refuse_field(key, value, "not an architecture name");
            }
            m_entry.arch = value;
            break;
        case 'C':
            if (!valid_checksum(value)) {
                refuse_field(key, value,
                             "not a package checksum (`Q1` and the base64 of 20 bytes)");
            }
            m_entry.checksum = value;
            m_has_checksum = true;
            break;
        case 'S':
            m_entry.size = number<std::uint64_t>(key, value, k_max_package_size);
            break;
        case 'I':
            m_entry.installed_size = number<std::uint64_t>(key, value, k_max_package_size);
            break;
        case 't':
            m_entry.build_time =
                number<std::int64_t>(key, value, std::numeric_limits<std::int64_t>::max());
            break;
        case 'k':
            m_entry.provider_priority =
                number<std::uint32_t>(key, value, std::numeric_limits<std::uint32_t>::max());
            break;
        case 'T':
            m_entry.description = value;
            break;
        case 'U':
            m_entry.url = value;
            break;
        case 'L':
            m_entry.license = value;
            break;
        case 'o':
            m_entry.origin = value;
            break;
        case 'm':
            m_entry.maintainer = value;
            break;
        case 'c':
            m_entry.commit = value;
            break;
        case 'D':
            tokens(key, value, m_entry.depends);
            break;
        case 'p':
            tokens(key, value, m_entry.provides);
            break;
        case 'i':
            tokens(key, value, m_entry.install_if);
            break;
        case 'r':
            // apk reads r: only from its installed database; an index's is kept as data.
            tokens(key, value, m_entry.replaces);
            break;
        case 'F':
        case 'M':
        case 'R':
        case 'Z':
        case 'q':
        case 'a':
        case 's':
        case 'f':
            // The installed database's own fields: apk passes over them in an index.
            break;
        default:
            // apk ignores an unknown lowercase field and marks the package of any other
            // unknown field uninstallable ("lower case index entries are safe to be ignored").
            if (key < 'a' || key > 'z') {
                m_uninstallable = true;
            }
            break;
        }
    }

    template <typename T>
    T number(char key, std::string_view value, T max) const {
        const auto parsed = decimal<T>(value, max);
        if (!parsed) {
            refuse_field(key, value, fmt::format("not a decimal number up to {}", max));
        }
        return *parsed;
    }

    /// Splits on runs of spaces, as apk_blob_pull_deps does.
    void tokens(char key, std::string_view value, std::vector<std::string>& into) const {
        while (!value.empty()) {
            const auto start = value.find_first_not_of(' ');
            if (start == std::string_view::npos) {
                break;
            }
            value.remove_prefix(start);
            const auto token = value.substr(0, value.find(' '));
            if (token.size() > m_limits.max_token) {
                refuse_field(key, token,
                             fmt::format("a token longer than {} bytes", m_limits.max_token));
            }
            if (into.size() >= m_limits.max_tokens) {
                refuse(m_line, fmt::format("{}: more than {} tokens", key, m_limits.max_tokens));
            }
            into.emplace_back(token);
            value.remove_prefix(token.size());
        }
    }

    void end_record() {
        if (!m_open) {
            return;
        }
        m_open = false;
        if (++m_records > m_limits.max_records) {
            throw VerificationError(fmt::format("{}: more than {} records; refusing the index",
                                                m_origin, m_limits.max_records));
        }
        // apk refuses an index with a record lacking P: or V: (apk_db_pkg_add fails); it
        // would take one without C:, but distill names and verifies each package file by it.
        const auto missing = m_entry.name.empty()      ? "P: (name)"
                             : m_entry.version.empty() ? "V: (version)"
                             : !m_has_checksum         ? "C: (checksum)"
                                                       : nullptr;
        if (missing != nullptr) {
            refuse(m_entry.line, fmt::format("the record starting here has no {}", missing));
        }
        if (!m_uninstallable) {
            m_index.packages.push_back(std::move(m_entry));
        }
    }

    std::string_view m_origin;
    const IndexLimits& m_limits;
    Index m_index;
    IndexEntry m_entry;
    std::size_t m_line = 0;
    std::size_t m_records = 0;
    bool m_open = false;
    bool m_has_checksum = false;
    bool m_uninstallable = false;
};

/// Whether an entry name is absolute or has a `..` component.
bool climbs(std::string_view name) {
    if (name.starts_with('/')) {
        return true;
    }
    while (!name.empty()) {
        const auto slash = name.find('/');
        if (name.substr(0, slash) == "..") {
            return true;
        }
        if (slash == std::string_view::npos) {
            break;
        }
        name.remove_prefix(slash + 1);
    }
    return false;
}

} // namespace

Index parse_index(std::string_view text, std::string_view origin) {
    return parse_index(text, origin, IndexLimits{});
}

Index parse_index(std::string_view text, std::string_view origin, const IndexLimits& limits) {
    return Parser(origin, limits).parse(text);
}

IndexFiles read_index_archive(std::string_view tar_gz, std::string_view origin) {
    const auto refuse = [&](std::string_view what) {
        throw VerificationError(fmt::format("{}: {}; refusing the index", origin, what));
    };
    auto reader = core::Archive::reader();
    archive* a = reader.get();
    // Only gzip and tar: an index is nothing else, and a reader that bid for every format
    // would take a hostile file for whichever it resembles.
    archive_read_support_filter_gzip(a);
    archive_read_support_format_tar(a);
    if (archive_read_open_memory(a, tar_gz.data(), tar_gz.size()) != ARCHIVE_OK) {
        refuse(fmt::format("not a gzip-compressed tar: {}", reader.error()));
    }
    IndexFiles files;
    bool have_index = false;
    bool have_description = false;
    std::size_t entries = 0;
    std::array<char, 64U << 10U> buffer{};
    for (;;) {
        archive_entry* entry = nullptr;
        const int status = archive_read_next_header(a, &entry);
        if (status == ARCHIVE_EOF) {
            break;
        }
        if (status != ARCHIVE_OK) {
            refuse(fmt::format("not a readable tar: {}", reader.error()));
        }
        // libarchive reads a tar that is not compressed too; an index always is.
        if (archive_filter_code(a, 0) != ARCHIVE_FILTER_GZIP) {
            refuse("not gzip-compressed");
        }
        if (++entries > k_max_archive_entries) {
            refuse(fmt::format("more than {} entries", k_max_archive_entries));
        }
        const auto expanded = static_cast<std::uint64_t>(archive_filter_bytes(a, 0));
        const la_int64_t declared = archive_entry_size(entry);
        if (declared < 0 || expanded + static_cast<std::uint64_t>(declared) > k_max_archive_total) {
            refuse(fmt::format("expands beyond {} bytes", k_max_archive_total));
        }
        const char* raw_name = archive_entry_pathname(entry);
        const std::string_view name = raw_name != nullptr ? raw_name : "";
        if (name.empty() || climbs(name)) {
            refuse(fmt::format("the entry `{}` is not a name inside the archive",
                               core::printable(name)));
        }
        const bool is_index = name == "APKINDEX";
        const bool is_description = name == "DESCRIPTION";
        if (!is_index && !is_description) {
            // The signature entry, checked before this is called; apk passes over others.
            if (archive_read_data_skip(a) != ARCHIVE_OK) {
                refuse(fmt::format("reading `{}`: {}", core::printable(name), reader.error()));
            }
            continue;
        }
        if (archive_entry_filetype(entry) != AE_IFREG) {
            refuse(fmt::format("`{}` is not a regular file", name));
        }
        if ((is_index && have_index) || (is_description && have_description)) {
            refuse(fmt::format("a second `{}`", name));
        }
        if (is_description && static_cast<std::uint64_t>(declared) > k_max_description) {
            refuse(fmt::format("DESCRIPTION is longer than {} bytes", k_max_description));
        }
        auto& into = is_index ? files.apkindex : files.description;
        (is_index ? have_index : have_description) = true;
        if (is_index) {
            files.made = static_cast<std::int64_t>(archive_entry_mtime(entry));
        }
        into.reserve(static_cast<std::size_t>(declared));
        for (;;) {
            const la_ssize_t got = archive_read_data(a, buffer.data(), buffer.size());
            if (got < 0) {
                refuse(fmt::format("reading `{}`: {}", name, reader.error()));
            }
            if (got == 0) {
                break;
            }
            into.append(buffer.data(), static_cast<std::size_t>(got));
            if (into.size() > static_cast<std::uint64_t>(declared)) {
                refuse(fmt::format("`{}` holds more than its header says", name));
            }
        }
    }
    if (!have_index) {
        refuse("no APKINDEX in the archive");
    }
    return files;
}

} // namespace distill::distro::alpine
