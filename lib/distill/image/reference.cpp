#include <algorithm>
#include <cctype>
#include <optional>

#include <fmt/format.h>

#include <distill/image/reference.hpp>

namespace distill::image {
namespace {

// Limits of the distribution reference grammar.
constexpr std::size_t k_max_name = 255;
constexpr std::size_t k_max_tag = 128;

constexpr const char* k_example = "write a tag (`1.2`) or a whole reference "
                                  "(`registry.example.org/team/app:1.2`)";

bool is_lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool is_alnum(char c) {
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

bool is_word(char c) {
    return is_alnum(c) || c == '_';
}

std::string lowercase(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](char c) {
        return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    });
    return out;
}

/// A path component: runs of lowercase letters and digits, separated by exactly one of `.`,
/// `_`, `__` or one or more `-`.
bool is_path_component(std::string_view text) {
    if (text.empty() || !is_lower_alnum(text.front()) || !is_lower_alnum(text.back())) {
        return false;
    }
    std::size_t i = 0;
    while (i < text.size()) {
        if (is_lower_alnum(text[i])) {
            ++i;
            continue;
        }
        const std::size_t start = i;
        while (i < text.size() && !is_lower_alnum(text[i])) {
            ++i;
        }
        const std::string_view separator = text.substr(start, i - start);
        const bool dashes = separator.find_first_not_of('-') == std::string_view::npos;
        if (separator != "." && separator != "_" && separator != "__" && !dashes) {
            return false;
        }
    }
    return true;
}

/// One label of a host name: letters, digits and inner dashes.
bool is_domain_label(std::string_view text) {
    return !text.empty() && is_alnum(text.front()) && is_alnum(text.back()) &&
           std::all_of(text.begin(), text.end(), [](char c) { return is_alnum(c) || c == '-'; });
}

/// `host[:port]`, the host a name (dotted labels, which covers IPv4 addresses) or a bracketed
/// IPv6 address.
bool is_domain(std::string_view text) {
    std::string_view host = text;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos || close < 2) {
            return false;
        }
        const auto inside = text.substr(1, close - 1);
        if (!std::all_of(inside.begin(), inside.end(), [](char c) {
                return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':';
            })) {
            return false;
        }
        host = {};
        text = text.substr(close + 1);
        if (!text.empty() && text.front() != ':') {
            return false;
        }
    } else {
        const auto colon = text.find(':');
        host = text.substr(0, colon);
        text = colon == std::string_view::npos ? std::string_view() : text.substr(colon);
        std::size_t start = 0;
        while (true) {
            const auto dot = host.find('.', start);
            if (!is_domain_label(host.substr(start, dot - start))) {
                return false;
            }
            if (dot == std::string_view::npos) {
                break;
            }
            start = dot + 1;
        }
    }
    if (text.empty()) {
        return true;
    }
    const auto port = text.substr(1);
    return !port.empty() &&
           std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// Whether the first component of a name with a `/` is the registry, as docker decides it.
bool looks_like_domain(std::string_view component) {
    return component.find_first_of(".:") != std::string_view::npos || component == "localhost";
}

std::string tag_problem(std::string_view tag) {
    return fmt::format("the tag `{}` may have only letters, digits, `_`, `.` and `-`, must not "
                       "start with `.` or `-`, and is at most {} characters",
                       tag, k_max_tag);
}

/// Parses `text` into `out`; returns what is wrong with it, if anything.
std::optional<std::string> parse(std::string_view text, Reference& out) {
    if (text.empty()) {
        return "it is empty";
    }
    if (const auto at = text.find('@'); at != std::string_view::npos) {
        return fmt::format("it names a digest (`{}`), which a build cannot choose",
                           text.substr(at));
    }
    const auto slash = text.rfind('/');
    const auto colon = text.find(':', slash == std::string_view::npos ? 0 : slash + 1);
    std::string_view name = text.substr(0, colon);
    if (colon != std::string_view::npos) {
        const auto tag = text.substr(colon + 1);
        if (tag.empty()) {
            return "the tag after the last `:` is empty";
        }
        if (!is_valid_tag(tag)) {
            return tag_problem(tag);
        }
        out.tag = std::string(tag);
    } else {
        out.tag = "latest";
    }
    if (name.empty()) {
        return "the name before the tag is empty";
    }
    if (name.size() > k_max_name) {
        return fmt::format("the name is {} characters long; at most {} are allowed", name.size(),
                           k_max_name);
    }
    if (const auto first = name.find('/');
        first != std::string_view::npos && looks_like_domain(name.substr(0, first))) {
        const auto domain = name.substr(0, first);
        if (!is_domain(domain)) {
            return fmt::format("the registry `{}` is not a host name or IP address with an "
                               "optional `:port`",
                               domain);
        }
        out.domain = std::string(domain);
        name = name.substr(first + 1);
    }
    std::size_t start = 0;
    while (true) {
        const auto end = name.find('/', start);
        const auto component = name.substr(start, end - start);
        if (component.empty()) {
            return "it has an empty path component (`//`, or a `/` at the start or end)";
        }
        if (!is_path_component(component)) {
            if (is_path_component(lowercase(component))) {
                return fmt::format("the repository name must be lowercase (`{}`)", component);
            }
            return fmt::format("the path component `{}` may have only lowercase letters and "
                               "digits, with `.`, `_`, `__` or dashes between them",
                               component);
        }
        if (end == std::string_view::npos) {
            break;
        }
        start = end + 1;
    }
    out.path = std::string(name);
    return std::nullopt;
}

} // namespace

std::string Reference::str() const {
    return fmt::format("{}{}:{}", domain.empty() ? "" : domain + "/", path, tag);
}

std::string Reference::qualified() const {
    // docker's default registry, under both its names, and its namespace of official images.
    const bool docker_hub = domain.empty() || domain == "docker.io" || domain == "index.docker.io";
    const std::string registry = docker_hub ? "docker.io" : domain;
    const std::string repository =
        docker_hub && path.find('/') == std::string::npos ? "library/" + path : path;
    return fmt::format("{}/{}:{}", registry, repository, tag);
}

Reference parse_reference(std::string_view text) {
    Reference out;
    if (const auto problem = parse(text, out)) {
        throw ReferenceError(
            fmt::format("`{}` is not a valid image reference: {}; {}", text, *problem, k_example));
    }
    return out;
}

Reference parse_tag_option(std::string_view text) {
    if (!text.empty() && text.find_first_of("/:@") == std::string_view::npos) {
        if (!is_valid_tag(text)) {
            throw ReferenceError(
                fmt::format("`{}` is not a valid tag: {}; {}", text, tag_problem(text), k_example));
        }
        return Reference{{}, {}, std::string(text)};
    }
    return parse_reference(text);
}

Reference reference_for(std::string_view name, const Reference& tag) {
    if (!tag.bare_tag()) {
        return tag;
    }
    Reference out;
    if (const auto problem = parse(fmt::format("{}:{}", name, tag.tag), out)) {
        throw ReferenceError(fmt::format(
            "the image name `{}` cannot be a repository name ({}): name the image with a whole "
            "reference such as `registry.example.org/team/app:{}`",
            name, *problem, tag.tag));
    }
    return out;
}

bool is_valid_tag(std::string_view text) {
    return !text.empty() && text.size() <= k_max_tag && is_word(text.front()) &&
           std::all_of(text.begin(), text.end(),
                       [](char c) { return is_word(c) || c == '.' || c == '-'; });
}

} // namespace distill::image
