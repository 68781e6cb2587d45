#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include <distill/core/text.hpp>
#include <distill/distro/debian/control.hpp>

namespace distill::distro::debian {
namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

} // namespace

std::optional<std::string_view> Paragraph::get(std::string_view name) const {
    for (const auto& field : m_fields) {
        if (iequals(field.name, name)) {
            return std::string_view(field.value);
        }
    }
    return std::nullopt;
}

std::string Paragraph::value_or(std::string_view name, std::string_view fallback) const {
    const auto value = get(name);
    return std::string(value ? *value : fallback);
}

void Paragraph::add(Field field) {
    m_fields.push_back(std::move(field));
}

void Paragraph::continue_last(std::string_view line) {
    auto& last = m_fields.back();
    if (!last.value.empty()) {
        last.value += '\n';
    }
    last.value += line;
}

std::vector<Paragraph> parse_paragraphs(std::string_view text, std::string_view origin) {
    std::vector<Paragraph> paragraphs;
    Paragraph current;
    bool in_paragraph = false;
    int line_number = 0;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        const auto end = text.find('\n', pos);
        const auto raw =
            text.substr(pos, end == std::string_view::npos ? text.size() - pos : end - pos);
        ++line_number;
        pos = end == std::string_view::npos ? text.size() + 1 : end + 1;
        const auto line = raw.ends_with('\r') ? raw.substr(0, raw.size() - 1) : raw;

        if (core::trim(line).empty()) {
            if (in_paragraph) {
                paragraphs.push_back(std::move(current));
                current = Paragraph();
                in_paragraph = false;
            }
            continue;
        }
        if (line.front() == '#') {
            continue;
        }
        if (line.front() == ' ' || line.front() == '\t') {
            if (!in_paragraph || current.fields().empty()) {
                throw ControlError(
                    fmt::format("{}:{}: continuation line without a field", origin, line_number));
            }
            current.continue_last(core::trim(line.substr(1)));
            continue;
        }
        const auto colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) {
            throw ControlError(fmt::format(R"({}:{}: expected "Field: value", got "{}")", origin,
                                           line_number,
                                           line.substr(0, std::min<std::size_t>(line.size(), 60))));
        }
        if (!in_paragraph) {
            current.set_line(line_number);
            in_paragraph = true;
        }
        current.add(Field{std::string(line.substr(0, colon)),
                          std::string(core::trim(line.substr(colon + 1))), line_number});
    }
    if (in_paragraph) {
        paragraphs.push_back(std::move(current));
    }
    return paragraphs;
}

std::vector<std::string> split_words(std::string_view value) {
    std::vector<std::string> words;
    std::size_t pos = 0;
    while (pos < value.size()) {
        const auto start = value.find_first_not_of(" \t\n\r", pos);
        if (start == std::string_view::npos) {
            break;
        }
        const auto end = value.find_first_of(" \t\n\r", start);
        words.emplace_back(value.substr(start, end == std::string_view::npos ? value.size() - start
                                                                             : end - start));
        pos = end == std::string_view::npos ? value.size() : end;
    }
    return words;
}

std::vector<std::string> split_lines(std::string_view value) {
    std::vector<std::string> lines;
    std::size_t pos = 0;
    while (pos <= value.size()) {
        const auto end = value.find('\n', pos);
        const auto line = core::trim(
            value.substr(pos, end == std::string_view::npos ? value.size() - pos : end - pos));
        if (!line.empty()) {
            lines.emplace_back(line);
        }
        if (end == std::string_view::npos) {
            break;
        }
        pos = end + 1;
    }
    return lines;
}

} // namespace distill::distro::debian
