#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <distill/manifest/manifest.hpp>

// The one table of architecture names: each distro spells a machine its own way (amd64 on
// Debian, x86_64 on Alpine), OCI uses Go's names and the kernel its own. Everything that
// translates between them reads this table.
namespace distill::distro {

/// One architecture as a distro names it, with the OCI platform and the kernel's machine name
/// of the same machine.
struct Arch {
    manifest::Distro distro = manifest::Distro::debian;
    std::string_view name;    ///< the distro's name: amd64 (Debian), x86_64 (Alpine)
    std::string_view oci;     ///< the OCI (Go) architecture: amd64, arm64, arm, 386, ...
    std::string_view variant; ///< the OCI variant where it matters: v8, v7, v6, v5
    std::string_view kernel;  ///< `uname -m` of a host that runs it natively (empty: none)
};

/// Every architecture of every distro; each distro's rows in the order its names are listed
/// to users.
[[nodiscard]] std::span<const Arch> arch_table();

/// The architecture names of `distro`, in the table's order.
[[nodiscard]] std::vector<std::string_view> arch_names(manifest::Distro distro);

/// The row of `distro` named `name`, or nullptr when the distro has no such architecture.
[[nodiscard]] const Arch* find_arch(manifest::Distro distro, std::string_view name);

/// The row of `distro` for the same machine as `arch` (same OCI architecture and variant), or
/// nullptr when `distro` has none.
[[nodiscard]] const Arch* same_machine(const Arch& arch, manifest::Distro distro);

/// The name `distro` gives an OCI platform: the row with the same architecture and variant,
/// else the first with the same architecture (an arm image without a variant is armhf on
/// Debian), else the OCI architecture itself.
[[nodiscard]] std::string arch_for_platform(manifest::Distro distro, std::string_view oci,
                                            std::string_view variant);

/// The host's architecture in `distro`'s naming (from the kernel's machine name); an Error
/// when the table does not know it.
[[nodiscard]] std::string host_arch(manifest::Distro distro);

/// "Debian", "Alpine": the distro's name in a sentence.
[[nodiscard]] std::string display_name(manifest::Distro distro);

} // namespace distill::distro
