#include <charconv>

#include <fmt/format.h>

#include <distill/core/cancel.hpp>
#include <distill/core/digest.hpp>
#include <distill/core/text.hpp>
#include <distill/distro/debian/fields.hpp>
#include <distill/distro/debian/packages_scan.hpp>

namespace distill::distro::debian {
namespace {

/// A package file of a terabyte is no package: such a Size is a broken or hostile index.
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

PackagesScan::PackagesScan(std::FILE* source, std::string name, Limits limits)
    : m_source(source)
    , m_name(std::move(name))
    , m_limits(limits) {}

void PackagesScan::refuse(std::string message) {
    if (m_error.empty()) {
        m_error = std::move(message);
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
        refuse(fmt::format("{}: line {}: {} `{}`: {}", m_name, m_line_number, name,
                           core::printable(value), *problem));
    }
}

std::FILE* PackagesScan::file() {
    cookie_io_functions_t functions{};
    functions.read = [](void* cookie, char* buffer, std::size_t size) -> ssize_t {
        return static_cast<ssize_t>(PackagesScan::read(cookie, buffer, size));
    };
    return fopencookie(this, "r", functions);
}

long PackagesScan::read(void* cookie, char* buffer, std::size_t size) {
    auto* self = static_cast<PackagesScan*>(cookie);
    if (core::cancel_requested()) {
        self->m_cancelled = true;
        return -1;
    }
    if (!self->m_error.empty()) {
        return -1;
    }
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
        }
        return 0;
    }
    const std::string_view data(buffer, got);
    if (data.find('\0') != std::string_view::npos) {
        // Binary data: the file is compressed in a way its name did not say, or not an index.
        self->m_binary = true;
        return -1;
    }
    self->m_total += got;
    const auto& limits = self->m_limits;
    if (self->m_total > limits.max_total) {
        self->refuse(fmt::format("{}: the index expands beyond {} bytes; refusing it", self->m_name,
                                 limits.max_total));
        return -1;
    }
    if (self->m_total > (64U << 20U) && limits.compressed != 0 &&
        self->m_total / limits.compressed > limits.max_ratio) {
        self->refuse(fmt::format("{}: the index expands more than {} times its compressed size "
                                 "({} bytes); refusing it",
                                 self->m_name, limits.max_ratio, limits.compressed));
        return -1;
    }
    self->feed(data);
    return self->m_error.empty() ? static_cast<long>(got) : -1;
}

void PackagesScan::feed(std::string_view data) {
    while (!data.empty()) {
        const auto newline = data.find('\n');
        if (newline == std::string_view::npos) {
            m_partial.append(data);
            if (m_partial.size() > m_limits.max_line) {
                refuse(fmt::format("{}: line {}: longer than {} bytes; refusing the index", m_name,
                                   m_line_number + 1, m_limits.max_line));
            }
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

void PackagesScan::line(std::string_view text) {
    ++m_line_number;
    if (text.size() > m_limits.max_line) {
        refuse(fmt::format("{}: line {}: longer than {} bytes; refusing the index", m_name,
                           m_line_number, m_limits.max_line));
        return;
    }
    if (text.empty() || text == "\r") {
        end_stanza();
        return;
    }
    if (m_stanza_bytes == 0) {
        m_stanza_line = m_line_number;
    }
    m_stanza_bytes += text.size() + 1;
    if (m_stanza_bytes > m_limits.max_stanza) {
        refuse(fmt::format("{}: line {}: the stanza starting there is longer than {} bytes; "
                           "refusing the index",
                           m_name, m_stanza_line, m_limits.max_stanza));
        return;
    }
    if (text.front() == ' ' || text.front() == '\t') {
        return;
    }
    if (auto v = field(text, "package")) {
        check("Package", *v);
        m_package = *v;
    } else if (auto ver = field(text, "version")) {
        check("Version", *ver);
        m_version = *ver;
        m_has_version = true;
    } else if (auto arch = field(text, "architecture")) {
        check("Architecture", *arch);
        m_arch = *arch;
    } else if (auto filename = field(text, "filename")) {
        check("Filename", *filename);
    } else if (auto sha256 = field(text, "sha256")) {
        check("SHA256", *sha256);
    } else if (auto size = field(text, "size")) {
        std::uint64_t value = 0;
        const auto* end = size->data() + size->size();
        const auto result = std::from_chars(size->data(), end, value);
        if (size->empty() || result.ec != std::errc() || result.ptr != end ||
            value > k_max_package_size) {
            refuse(fmt::format("{}: line {}: Size `{}`: not a number of bytes up to {}", m_name,
                               m_line_number, core::printable(*size), k_max_package_size));
            return;
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
    if (m_stanza_bytes != 0 && m_error.empty()) {
        if (++m_stanzas > m_limits.max_stanzas) {
            refuse(fmt::format("{}: more than {} stanzas; refusing the index", m_name,
                               m_limits.max_stanzas));
        } else if (!m_package.empty() && (!m_has_version || m_version.empty())) {
            refuse(fmt::format("{}: line {}: the stanza of {} has no Version", m_name,
                               m_stanza_line, core::printable(m_package)));
        }
    }
    if (!m_package.empty()) {
        // libsolv gives a stanza without Architecture the arch "all"; key it the same way.
        m_noted[key(m_package, m_version, m_arch.empty() ? "all" : m_arch)] = m_current;
    }
    m_stanza_bytes = 0;
    m_has_version = false;
    m_package.clear();
    m_version.clear();
    m_arch.clear();
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
