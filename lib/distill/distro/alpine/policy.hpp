#pragma once

#include <span>

#include <distill/distro/distro.hpp>

namespace distill::distro::alpine {

/// The Alpine distroless policy, as data: shells and their providers, busybox, the package
/// manager, init and system configuration tools.
[[nodiscard]] std::span<const PolicyRule> exclusion_rules();

} // namespace distill::distro::alpine
