#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <distill/core/error.hpp>

namespace distill::distro::debian {

/// One field of a deb822 paragraph. Multi-line values keep their continuation lines, joined
/// with '\n' and with the one leading space of each continuation line removed.
struct Field {
    std::string name;
    std::string value;
    int line = 0; ///< 1-based line of the field name
};

/// A paragraph ("stanza") of a deb822 file: Release files, Packages indexes, control files,
/// apt .sources files.
class Paragraph {
public:
    /// The value of a field, matched case-insensitively as deb822 requires.
    [[nodiscard]] std::optional<std::string_view> get(std::string_view name) const;
    /// The value of a field, or `fallback` when absent.
    [[nodiscard]] std::string value_or(std::string_view name, std::string_view fallback) const;
    [[nodiscard]] const std::vector<Field>& fields() const noexcept { return m_fields; }
    /// 1-based line where the paragraph starts.
    [[nodiscard]] int line() const noexcept { return m_line; }

    void add(Field field);
    /// Appends a continuation line to the last field added.
    void continue_last(std::string_view line);
    void set_line(int line) noexcept { m_line = line; }

private:
    std::vector<Field> m_fields;
    int m_line = 0;
};

/// A deb822 file is malformed; the message names the line.
class ControlError : public Error {
public:
    using Error::Error;
};

/// Parses deb822 text into paragraphs (blank lines separate them; lines starting with '#'
/// are comments). `origin` names the text in error messages.
[[nodiscard]] std::vector<Paragraph> parse_paragraphs(std::string_view text,
                                                      std::string_view origin);

/// Splits a field value into whitespace-separated words.
[[nodiscard]] std::vector<std::string> split_words(std::string_view value);

/// Splits a multi-line field value into its non-empty lines, trimmed.
[[nodiscard]] std::vector<std::string> split_lines(std::string_view value);

} // namespace distill::distro::debian
