#pragma once

#include <optional>
#include <string>
#include <string_view>

// The grammar of the fields that identify a Debian package, checked wherever they come from
// outside (a Packages index, a lock, a package's own control file) before anything uses them:
// they end up in cache file names, in the image's package database and in messages.
namespace distill::distro::debian {

/// Why `name` is not a package name as Debian policy 5.6.1 defines it (at least two
/// characters of a-z, 0-9, `+`, `-`, `.`, starting with a letter or a digit), or nullopt.
[[nodiscard]] std::optional<std::string> package_name_problem(std::string_view name);

/// Why `version` is not a valid Debian version (Version::parse()), or nullopt.
[[nodiscard]] std::optional<std::string> version_problem(std::string_view version);

/// Why `arch` is not a Debian architecture of the table (distro/arch.hpp) nor `all`, or
/// nullopt.
[[nodiscard]] std::optional<std::string> architecture_problem(std::string_view arch);

/// Why `filename` (an index's Filename: a path below the repository's root) is not one: empty,
/// absolute, with a URL scheme, or with a component that core::component_problem() refuses
/// (`..` among them); or nullopt.
[[nodiscard]] std::optional<std::string> filename_problem(std::string_view filename);

/// The first problem of a package's name, version and architecture, each named with its
/// field ("Package: ...: ..."), or nullopt when all three are valid.
[[nodiscard]] std::optional<std::string>
identity_problem(std::string_view name, std::string_view version, std::string_view arch);

} // namespace distill::distro::debian
