#include <algorithm>

#include <fmt/format.h>

#include <distill/assemble/busybox.hpp>
#include <distill/core/error.hpp>

namespace distill::assemble {
namespace {

constexpr std::size_t k_max_applets = 1000;
constexpr std::size_t k_max_name = 64;

bool applet_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == '[' || c == ']';
}

} // namespace

std::vector<std::string> busybox_applets(std::string_view binary) {
    // Busybox keeps its applet names in one string, sorted, each ending in NUL; the test
    // applets `[` and `[[` come first in every build that has a shell.
    constexpr std::string_view k_start{"\0[\0[[\0", 6};
    const auto start = binary.find(k_start);
    if (start == std::string_view::npos) {
        throw Error(
            "the busybox binary holds no applet table (`[` and `[[` first): is it busybox?");
    }
    std::vector<std::string> applets;
    std::size_t at = start + 1;
    while (at < binary.size() && binary[at] != '\0') {
        const auto end = binary.find('\0', at);
        if (end == std::string_view::npos || end - at > k_max_name) {
            break;
        }
        const auto name = binary.substr(at, end - at);
        if (!std::all_of(name.begin(), name.end(), applet_char) ||
            (!applets.empty() && name <= applets.back())) {
            break; // past the table: what follows is other data
        }
        if (applets.size() >= k_max_applets) {
            throw Error(fmt::format("the busybox binary's applet table has more than {} names",
                                    k_max_applets));
        }
        applets.emplace_back(name);
        at = end + 1;
    }
    if (!std::binary_search(applets.begin(), applets.end(), "sh")) {
        throw Error(fmt::format("the busybox binary's applet table ({} names) has no `sh`",
                                applets.size()));
    }
    return applets;
}

} // namespace distill::assemble
