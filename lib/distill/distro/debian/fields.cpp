#include <fmt/format.h>
#include <fmt/ranges.h>

#include <distill/core/path.hpp>
#include <distill/core/text.hpp>
#include <distill/distro/arch.hpp>
#include <distill/distro/debian/fields.hpp>
#include <distill/distro/debian/version.hpp>

namespace distill::distro::debian {
namespace {

bool is_lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

} // namespace

std::optional<std::string> package_name_problem(std::string_view name) {
    if (name.size() < 2) {
        return "a package name has at least two characters";
    }
    if (!is_lower_alnum(name.front())) {
        return "a package name starts with a lower-case letter or a digit";
    }
    for (const char c : name) {
        if (!is_lower_alnum(c) && c != '+' && c != '-' && c != '.') {
            return "a package name holds only lower-case letters, digits, `+`, `-` and `.`";
        }
    }
    return std::nullopt;
}

std::optional<std::string> version_problem(std::string_view version) {
    std::string why;
    if (!Version::parse(version, &why)) {
        return why;
    }
    // parse() forgives surrounding blanks, which a field value taken as it is must not have.
    if (version.find_first_of(" \t\r\n") != std::string_view::npos) {
        return "version string has embedded spaces";
    }
    return std::nullopt;
}

std::optional<std::string> architecture_problem(std::string_view arch) {
    if (arch == "all" || find_arch(manifest::Distro::debian, arch) != nullptr) {
        return std::nullopt;
    }
    return fmt::format("not a Debian architecture (all, {})",
                       fmt::join(arch_names(manifest::Distro::debian), ", "));
}

std::optional<std::string> filename_problem(std::string_view filename) {
    if (filename.empty()) {
        return "the file name is empty";
    }
    if (filename.front() == '/') {
        return "an absolute path; it must lie below the repository";
    }
    if (const auto colon = filename.find(':');
        colon != std::string_view::npos &&
        filename.substr(0, colon).find('/') == std::string_view::npos) {
        return "a URL, not a path below the repository";
    }
    std::string_view rest = filename;
    for (;;) {
        const auto slash = rest.find('/');
        if (const auto problem = core::component_problem(rest.substr(0, slash))) {
            return fmt::format("the component `{}`: {}", core::printable(rest.substr(0, slash)),
                               *problem);
        }
        if (slash == std::string_view::npos) {
            return std::nullopt;
        }
        rest.remove_prefix(slash + 1);
    }
}

std::optional<std::string> identity_problem(std::string_view name, std::string_view version,
                                            std::string_view arch) {
    if (auto problem = package_name_problem(name)) {
        return fmt::format("Package `{}`: {}", core::printable(name), *problem);
    }
    if (auto problem = version_problem(version)) {
        return fmt::format("Version `{}`: {}", core::printable(version), *problem);
    }
    if (auto problem = architecture_problem(arch)) {
        return fmt::format("Architecture `{}`: {}", core::printable(arch), *problem);
    }
    return std::nullopt;
}

} // namespace distill::distro::debian
