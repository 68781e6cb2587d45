#include <distill/core/text.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <utility>

namespace distill::core {

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        row[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

std::vector<std::string> closest_matches(std::string_view word,
                                         const std::vector<std::string>& candidates,
                                         std::size_t limit) {
    const std::size_t allowed = std::max<std::size_t>(1, word.size() / 3);
    std::vector<std::pair<std::size_t, std::string>> scored;
    for (const auto& candidate : candidates) {
        const auto longer = std::max(candidate.size(), word.size());
        const auto shorter = std::min(candidate.size(), word.size());
        if (longer - shorter > allowed) {
            continue; // cannot be close enough; skip the quadratic distance
        }
        const auto distance = edit_distance(word, candidate);
        if (distance <= allowed && distance > 0) {
            scored.emplace_back(distance, candidate);
        }
    }
    std::sort(scored.begin(), scored.end());
    std::vector<std::string> result;
    for (std::size_t i = 0; i < scored.size() && i < limit; ++i) {
        result.push_back(scored[i].second);
    }
    return result;
}

std::string human_size(std::uint64_t bytes) {
    if (bytes < 1000) {
        return fmt::format("{} B", bytes);
    }
    constexpr const char* units[] = {"kB", "MB", "GB", "TB"};
    auto value = static_cast<double>(bytes) / 1000.0;
    std::size_t unit = 0;
    while (value >= 1000.0 && unit + 1 < std::size(units)) {
        value /= 1000.0;
        ++unit;
    }
    return value < 10.0 ? fmt::format("{:.1f} {}", value, units[unit])
                        : fmt::format("{:.0f} {}", value, units[unit]);
}

} // namespace distill::core
