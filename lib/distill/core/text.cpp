#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <utility>

#include <fmt/format.h>

#include <distill/core/text.hpp>

namespace distill::core {

namespace {

char lower(char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

std::size_t typo_budget(std::string_view word) {
    // Two edits turn most short words into most other short words, so short words get one.
    if (word.size() < 5) {
        return 1;
    }
    return std::max<std::size_t>(2, word.size() / 4);
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

std::vector<std::string>
closest_matches(std::string_view word, std::span<const std::string> candidates, std::size_t limit) {
    const std::size_t budget = typo_budget(word);
    std::vector<std::pair<std::size_t, std::string>> scored;
    for (const auto& candidate : candidates) {
        const auto longer = std::max(candidate.size(), word.size());
        const auto shorter = std::min(candidate.size(), word.size());
        if (longer - shorter > budget) {
            continue; // cannot be close enough; skip the quadratic distance
        }
        const auto distance = edit_distance(word, candidate);
        if (distance <= budget && distance > 0) {
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

std::optional<std::string> closest(std::string_view word,
                                   std::span<const std::string_view> candidates) {
    std::optional<std::string> best;
    std::size_t best_distance = typo_budget(word) + 1;
    for (const auto candidate : candidates) {
        const std::size_t distance = edit_distance(word, candidate);
        if (distance < best_distance) {
            best_distance = distance;
            best = std::string(candidate);
        }
    }
    return best;
}

std::string join(std::span<const std::string_view> words) {
    std::string out;
    for (const auto word : words) {
        if (!out.empty()) {
            out += ", ";
        }
        out += word;
    }
    return out;
}

std::string lowercase(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](char c) {
        return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    });
    return out;
}

std::string_view trim(std::string_view text) {
    const auto space = [](char c) {
        return std::isspace(static_cast<unsigned char>(c)) != 0;
    };
    while (!text.empty() && space(text.front())) {
        text.remove_prefix(1);
    }
    while (!text.empty() && space(text.back())) {
        text.remove_suffix(1);
    }
    return text;
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

bool is_utf8(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto lead = static_cast<unsigned char>(text[i]);
        std::size_t length = 0;
        std::uint32_t code = 0;
        if (lead < 0x80U) {
            ++i;
            continue;
        }
        if ((lead & 0xE0U) == 0xC0U) {
            length = 2;
            code = lead & 0x1FU;
        } else if ((lead & 0xF0U) == 0xE0U) {
            length = 3;
            code = lead & 0x0FU;
        } else if ((lead & 0xF8U) == 0xF0U) {
            length = 4;
            code = lead & 0x07U;
        } else {
            return false;
        }
        if (i + length > text.size()) {
            return false;
        }
        for (std::size_t k = 1; k < length; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xC0U) != 0x80U) {
                return false;
            }
            code = (code << 6U) | (next & 0x3FU);
        }
        constexpr std::array<std::uint32_t, 5> k_smallest{0, 0, 0x80, 0x800, 0x10000};
        if (code < k_smallest.at(length) || code > 0x10FFFFU ||
            (code >= 0xD800U && code <= 0xDFFFU)) {
            return false;
        }
        i += length;
    }
    return true;
}

std::string printable(std::string_view text) {
    const bool keep_utf8 = is_utf8(text);
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (byte < 0x20 || byte == 0x7f || (byte >= 0x80 && !keep_utf8)) {
            out += fmt::format("\\x{:02x}", byte);
        } else {
            out += c;
        }
    }
    return out;
}

} // namespace distill::core
