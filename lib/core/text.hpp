#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace distill::core {

/// Levenshtein distance between two strings (for "did you mean" hints).
[[nodiscard]] std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidates closest to `word` by edit distance, best first, at most `limit` of them and
/// only those close enough to be a plausible typo (distance at most a third of the length,
/// and at least 1 edit allowed).
[[nodiscard]] std::vector<std::string> closest_matches(std::string_view word,
                                                       const std::vector<std::string>& candidates,
                                                       std::size_t limit = 3);

/// A human size: "1.2 MB", "340 kB", "12 B" (decimal units, as apt prints them).
[[nodiscard]] std::string human_size(std::uint64_t bytes);

} // namespace distill::core
