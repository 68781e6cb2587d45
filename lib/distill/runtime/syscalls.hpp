#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The system calls and capabilities the runtime profile speaks of. This part knows no manifest:
// the manifest's checks use it as the profile does.
namespace distill::runtime {

/// A group of system calls the profile denies (EPERM), and why a distroless service never
/// needs them.
struct Denial {
    std::vector<std::string_view> names;
    std::string_view reason;
};

/// The profile's denials, in the order the manifest reference lists them.
[[nodiscard]] const std::vector<Denial>& denials();

/// What the profile does with a system call before the manifest relaxes it.
enum class SyscallRule {
    allowed,           ///< allowed, as the runtime's default allows it
    denied,            ///< one of denials()
    denied_by_default, ///< the runtime's default denies it already (to a process without
                       ///< capabilities), and so does the profile
    unknown,           ///< not a system call the profile names
};

[[nodiscard]] SyscallRule syscall_rule(std::string_view name);

/// The system calls the profile allows unconditionally (without the manifest's relaxations):
/// sorted.
[[nodiscard]] const std::vector<std::string_view>& allowed_syscalls();

/// The system calls the runtime's default denies to a process without capabilities: sorted.
[[nodiscard]] const std::vector<std::string_view>& denied_by_default();

/// The Linux capability `name` names, spelled CAP_X ("net_bind_service", "NET_BIND_SERVICE"
/// and "CAP_NET_BIND_SERVICE" are all CAP_NET_BIND_SERVICE), or nothing for an unknown name.
[[nodiscard]] std::optional<std::string> capability_name(std::string_view name);

/// Every Linux capability, CAP_X, for hints.
[[nodiscard]] const std::vector<std::string_view>& capabilities();

} // namespace distill::runtime
