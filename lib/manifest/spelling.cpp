#include <algorithm>
#include <cctype>
#include <vector>

#include <distill/manifest/spelling.hpp>

namespace distill::manifest::detail {
namespace {

char lower(char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

} // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) {
    // Three rows suffice: the swap of neighbours looks two rows back.
    const std::size_t width = b.size() + 1;
    std::vector<std::size_t> before(width);
    std::vector<std::size_t> previous(width);
    std::vector<std::size_t> current(width);
    for (std::size_t j = 0; j < width; ++j) {
        previous[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        current[0] = i;
        for (std::size_t j = 1; j < width; ++j) {
            const std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
            current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
                lower(a[i - 2]) == lower(b[j - 1])) {
                current[j] = std::min(current[j], before[j - 2] + 1);
            }
        }
        std::swap(before, previous);
        std::swap(previous, current);
    }
    return previous[b.size()];
}

std::optional<std::string> closest(std::string_view word,
                                   std::span<const std::string_view> candidates) {
    // Two edits turn most short words into most other short words, so short words get one.
    const std::size_t budget = word.size() >= 5 ? 2 : 1;
    std::optional<std::string> best;
    std::size_t best_distance = budget + 1;
    for (const auto candidate : candidates) {
        const std::size_t distance = edit_distance(word, candidate);
        if (distance < best_distance) {
            best_distance = distance;
            best = std::string(candidate);
        }
    }
    return best;
}

std::string join(std::span<const std::string_view> candidates) {
    std::string out;
    for (const auto candidate : candidates) {
        if (!out.empty()) {
            out += ", ";
        }
        out += candidate;
    }
    return out;
}

} // namespace distill::manifest::detail
