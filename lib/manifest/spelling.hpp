#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

// Private to lib/manifest: "did you mean" suggestions for keys and values.
namespace distill::manifest::detail {

/// The optimal-string-alignment distance between two words, case-insensitively: insertions,
/// deletions, substitutions and swaps of neighbouring letters each cost one.
[[nodiscard]] std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `word` when it is close enough to be a likely typo (one edit for
/// short words, two for longer ones); nullopt otherwise.
[[nodiscard]] std::optional<std::string> closest(std::string_view word,
                                                 std::span<const std::string_view> candidates);

/// "a, b, c": the candidates joined for a hint.
[[nodiscard]] std::string join(std::span<const std::string_view> candidates);

} // namespace distill::manifest::detail
