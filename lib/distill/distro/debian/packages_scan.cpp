#include <charconv>

#include <fmt/format.h>

#include <distill/core/digest.hpp>
#include <distill/core/text.hpp>
#include <distill/distro/debian/fields.hpp>
#include <distill/distro/debian/packages_scan.hpp>

namespace distill::distro::debian {
namespace {

/// No package file comes near this (ar members hold at most 10^10 bytes each); a Size beyond
/// it is a broken or hostile index.
constexpr std::uint64_t k_max_package_size = std::uint64_t{1} << 40U;

std::string key(std::string_view name, std::string_view version, std::string_view arch) {
    std::string k;
    k.reserve(name.size() + version.size() + arch.size() + 2);
    k.append(name).append(1, '\n').append(version).append(1, '\n').append(arch);
    return k;
}

/// The value of "Field: value" when `text` is that field (case-insensitively), else nullopt.
std::optional<std::string_view> field(std::string_view text, std::string_view name) {
    if (text.size() <= name.size() || text[name.size()] != ':') {
        return std::nullopt;
    }
    for (std::size_t i = 0; i < name.size(); ++i) {
        if ((text[i] | 0x20) != (name[i] | 0x20)) {
            return std::nullopt;
        }
    }
    auto value = text.substr(name.size() + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
        value.remove_prefix(1);
    }
    while (!value.empty() &&
           (value.back() == ' ' || value.back() == '\t' || value.back() == '\r')) {
        value.remove_suffix(1);
    }
    return value;
}

} // namespace

PackagesScan::PackagesScan(std::FILE* source)
    : m_source(source) {}

std::FILE* PackagesScan::file() {
    cookie_io_functions_t functions{};
    functions.read = [](void* cookie, char* buffer, std::size_t size) -> ssize_t {
        return static_cast<ssize_t>(PackagesScan::read(cookie, buffer, size));
    };
    return fopencookie(this, "r", functions);
}

long PackagesScan::read(void* cookie, char* buffer, std::size_t size) {
    auto* self = static_cast<PackagesScan*>(cookie);
    const std::size_t got = std::fread(buffer, 1, size, self->m_source);
    if (got == 0) {
        if (std::ferror(self->m_source) != 0) {
            self->m_failed = true;
            return -1;
        }
        if (!self->m_ended) {
            self->m_ended = true;
            if (!self->m_partial.empty()) {
                self->line(self->m_partial);
                self->m_partial.clear();
            }
            self->end_stanza();
            if (!self->m_problem.empty()) {
                return -1;
            }
        }
        return 0;
    }
    const std::string_view data(buffer, got);
    if (data.find('\0') != std::string_view::npos) {
        // Binary data: the file is compressed in a way its name did not say, or not an index.
        self->m_binary = true;
        return -1;
    }
    self->feed(data);
    if (!self->m_problem.empty()) {
        return -1; // libsolv stops here; load() reports problem()
    }
    return static_cast<long>(got);
}

void PackagesScan::feed(std::string_view data) {
    while (!data.empty() && m_problem.empty()) {
        const auto newline = data.find('\n');
        if (newline == std::string_view::npos) {
            m_partial.append(data);
            return;
        }
        if (m_partial.empty()) {
            line(data.substr(0, newline));
        } else {
            m_partial.append(data.substr(0, newline));
            line(m_partial);
            m_partial.clear();
        }
        data.remove_prefix(newline + 1);
    }
}

void PackagesScan::fail(std::uint64_t line, std::string why) {
    if (m_problem.empty()) {
        m_problem = fmt::format("line {}: {}", line, why);
    }
}

void PackagesScan::check(std::string_view name, std::string_view value) {
    std::optional<std::string> problem;
    if (name == "Package") {
        problem = package_name_problem(value);
    } else if (name == "Version") {
        problem = version_problem(value);
    } else if (name == "Architecture") {
        problem = architecture_problem(value);
    } else if (name == "Filename") {
        problem = filename_problem(value);
    } else if (name == "SHA256" && !core::is_sha256_hex(value)) {
        problem = "not a SHA-256 (64 hexadecimal digits)";
    }
    if (problem) {
        fail(m_line, fmt::format("{} `{}`: {}", name, core::printable(value), *problem));
    }
}

void PackagesScan::line(std::string_view text) {
    ++m_line;
    if (text.empty() || text == "\r") {
        end_stanza();
        return;
    }
    if (text.front() == ' ' || text.front() == '\t') {
        return;
    }
    if (m_stanza_line == 0) {
        m_stanza_line = m_line;
    }
    if (auto v = field(text, "package")) {
        check("Package", *v);
        m_name = *v;
    } else if (auto ver = field(text, "version")) {
        check("Version", *ver);
        m_version = *ver;
        m_seen_version = true;
    } else if (auto arch = field(text, "architecture")) {
        check("Architecture", *arch);
        m_arch = *arch;
    } else if (auto filename = field(text, "filename")) {
        check("Filename", *filename);
    } else if (auto sha256 = field(text, "sha256")) {
        check("SHA256", *sha256);
    } else if (auto size = field(text, "size")) {
        std::uint64_t value = 0;
        const auto result = std::from_chars(size->data(), size->data() + size->size(), value);
        if (size->empty() || result.ec != std::errc() ||
            result.ptr != size->data() + size->size() || value > k_max_package_size) {
            fail(m_line, fmt::format("Size `{}`: not a number of bytes up to {}",
                                     core::printable(*size), k_max_package_size));
        }
        m_current.size = value;
    } else if (auto priority = field(text, "priority")) {
        m_current.priority = *priority == "required"    ? 5
                             : *priority == "important" ? 4
                             : *priority == "standard"  ? 3
                             : *priority == "optional"  ? 2
                             : *priority == "extra"     ? 1
                                                        : 0;
    }
}

void PackagesScan::end_stanza() {
    if (!m_name.empty() && !m_seen_version) {
        fail(m_stanza_line, fmt::format("the stanza of {} has no Version", m_name));
    }
    if (!m_name.empty()) {
        // libsolv gives a stanza without Architecture the arch "all"; key it the same way.
        m_noted[key(m_name, m_version, m_arch.empty() ? "all" : m_arch)] = m_current;
    }
    m_name.clear();
    m_version.clear();
    m_arch.clear();
    m_seen_version = false;
    m_stanza_line = 0;
    m_current = Noted{};
}

std::optional<PackagesScan::Noted>
PackagesScan::noted(std::string_view name, std::string_view version, std::string_view arch) const {
    const auto it = m_noted.find(key(name, version, arch));
    if (it == m_noted.end()) {
        return std::nullopt;
    }
    return it->second;
}

} // namespace distill::distro::debian
