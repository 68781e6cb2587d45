#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <distill/manifest/manifest.hpp>

// The runtime profile every image carries: the least privilege it runs with. A seccomp profile
// (the runtime's default, less the system calls of denials(), see syscalls.hpp) and the run
// settings the image supports: its user, a read-only root file system with a tmpfs /tmp, no
// capability, no new privileges. The manifest's `runtime` relaxes them.
namespace distill::runtime {

/// The image config label that holds the seccomp profile: podman applies it with
/// `--seccomp-policy=image`.
inline constexpr const char* k_seccomp_label = "io.containers.seccomp.profile";
/// The image config label that holds the run settings (settings_json), which `distill inspect
/// --run` reads.
inline constexpr const char* k_settings_label = "dev.distill.runtime";

/// How the image runs with the least privilege it needs.
struct Settings {
    std::string user;                      ///< "uid:gid"
    bool read_only = true;                 ///< the root file system
    std::vector<std::string> tmpfs;        ///< writable directories: /tmp and the manifest's
    std::vector<std::string> capabilities; ///< kept (CAP_X); every other one is dropped
    bool no_new_privileges = true;
    std::vector<std::string> allowed_syscalls; ///< the manifest's relaxations of the profile
};

/// The settings of an image of `manifest` (validated) that runs as `user` ("uid:gid").
[[nodiscard]] Settings settings_for(const manifest::Manifest& manifest, std::string user);

/// The seccomp profile (the OCI runtime's JSON, as Docker, podman and Kubernetes take it):
/// keys in a fixed order; `indent` < 0 for one line.
[[nodiscard]] std::string seccomp_profile(const Settings& settings, int indent = -1);

/// The settings as the label k_settings_label holds them, and back. Reading checks every value
/// (the label is outside data): an Error says what is wrong.
[[nodiscard]] std::string settings_json(const Settings& settings);
[[nodiscard]] Settings settings_from_json(std::string_view text);

/// `podman run` (tool "podman") or `docker run` with the settings' flags for `image`, the
/// seccomp profile read from `profile` (a file). Writable directories are tmpfs mounted
/// noexec, nosuid and nodev; podman's own tmpfs on /run, /tmp and /var/tmp of a read-only
/// container (--read-only-tmpfs) are turned off.
[[nodiscard]] std::string run_command(std::string_view tool, const Settings& settings,
                                      std::string_view profile, std::string_view image);

/// A Kubernetes container's securityContext for the settings, with the seccomp profile
/// `localhost_profile` (relative to the kubelet's seccomp directory), as YAML.
[[nodiscard]] std::string kubernetes_security_context(const Settings& settings,
                                                      std::string_view localhost_profile);

/// What the manifest relaxed, one line each, for `distill plan`: empty when nothing.
[[nodiscard]] std::vector<std::string> relaxations(const Settings& settings);

/// How many system calls the profile denies by name (denials() and the runtime default's).
[[nodiscard]] std::size_t denied_count(const Settings& settings);

} // namespace distill::runtime
