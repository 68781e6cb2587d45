#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace distill::core {

/// The optimal-string-alignment distance between two words, case-insensitively: insertions,
/// deletions, substitutions and swaps of neighbouring letters each cost one.
[[nodiscard]] std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidates close enough to `word` to be a likely typo, best first, at most `limit` of
/// them. Short words get one edit, longer ones two, long ones a quarter of their length.
[[nodiscard]] std::vector<std::string> closest_matches(std::string_view word,
                                                       std::span<const std::string> candidates,
                                                       std::size_t limit = 3);

/// The single closest candidate, when close enough to be a likely typo.
[[nodiscard]] std::optional<std::string> closest(std::string_view word,
                                                 std::span<const std::string_view> candidates);

/// "a, b, c": the words joined for a hint.
[[nodiscard]] std::string join(std::span<const std::string_view> words);

/// Whether `text` is well-formed UTF-8 (no overlong forms, surrogates or code points past
/// U+10FFFF).
[[nodiscard]] bool is_utf8(std::string_view text);

/// `text` with each control character written as an escape ("\\n", "\\x1b"), and every byte
/// past ASCII too when `text` is not well-formed UTF-8, so that a hostile name cannot break a
/// message into lines, drive a terminal or garble the output's encoding.
[[nodiscard]] std::string printable(std::string_view text);

/// A human size: "1.2 MB", "340 kB", "12 B" (decimal units, as apt prints them).
[[nodiscard]] std::string human_size(std::uint64_t bytes);

/// `text` with ASCII letters lowercased.
[[nodiscard]] std::string lowercase(std::string_view text);

/// `text` without the whitespace (space, tab, CR, LF, VT, FF) at its ends.
[[nodiscard]] std::string_view trim(std::string_view text);

} // namespace distill::core
