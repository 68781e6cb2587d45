#include <fmt/format.h>

#include <distill/core/path.hpp>
#include <distill/core/text.hpp>

namespace distill::core {

std::optional<std::string> component_problem(std::string_view name) {
    if (name.empty()) {
        return "it is empty";
    }
    if (name == "." || name == "..") {
        return fmt::format("`{}` names a directory, not an entry in one", name);
    }
    if (name.size() > k_max_component) {
        return fmt::format("it is {} bytes long, more than a file name may be ({})", name.size(),
                           k_max_component);
    }
    for (const char c : name) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '/') {
            return "it holds a `/`";
        }
        // A control character in a file name is never needed and a newline would add lines to
        // the listings that name files one per line (a package database's .list).
        if (byte < 0x20 || byte == 0x7f) {
            return fmt::format("it holds the control character 0x{:02x}", byte);
        }
    }
    return std::nullopt;
}

std::string safe_component(std::string_view name, std::string_view what) {
    if (const auto problem = component_problem(name)) {
        throw UnsafePathError(
            fmt::format("{} `{}` cannot name a file: {}", what, printable(name), *problem));
    }
    return std::string(name);
}

} // namespace distill::core
