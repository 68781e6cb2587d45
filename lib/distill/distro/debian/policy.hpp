#pragma once

#include <span>

#include <distill/distro/distro.hpp>

namespace distill::distro::debian {

/// The Debian distroless policy as data: shells, interpreters not asked for, package managers
/// and maintainer-script helpers, init and system tools, network tools, and the helpers whose
/// effect distill produces declaratively.
[[nodiscard]] std::span<const PolicyRule> exclusion_rules();

} // namespace distill::distro::debian
