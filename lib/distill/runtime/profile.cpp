#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <distill/core/error.hpp>
#include <distill/core/text.hpp>
#include <distill/runtime/profile.hpp>
#include <distill/runtime/syscalls.hpp>

namespace distill::runtime {
namespace {

using ordered = nlohmann::ordered_json;

constexpr int k_eperm = 1;
constexpr int k_einval = 22;
constexpr int k_enosys = 38;
/// CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID and
/// CLONE_NEWNET.
constexpr std::uint64_t k_clone_namespace_flags = 0x7E020000;
constexpr int k_af_netlink = 16;
/// A writable directory holds data, never programs.
constexpr const char* k_tmpfs_options = "rw,noexec,nosuid,nodev";
constexpr int k_netlink_audit = 9;

ordered rule(const std::vector<std::string>& names, const char* action) {
    return ordered::object({{"names", names}, {"action", action}});
}

ordered argument(int index, std::uint64_t value, const char* op) {
    return ordered::object({{"index", index}, {"value", value}, {"valueTwo", 0}, {"op", op}});
}

bool relaxed(const Settings& settings, std::string_view name) {
    return std::find(settings.allowed_syscalls.begin(), settings.allowed_syscalls.end(), name) !=
           settings.allowed_syscalls.end();
}

/// The names of `names` the manifest did not relax.
template <typename Names>
std::vector<std::string> still_denied(const Settings& settings, const Names& names) {
    std::vector<std::string> out;
    for (const auto& name : names) {
        if (!relaxed(settings, name)) {
            out.emplace_back(name);
        }
    }
    return out;
}

// Bounds of the settings label, which is outside data.
constexpr std::size_t k_max_settings_size = 64U << 10U;
constexpr std::size_t k_max_entries = 256;

bool plain_path(const std::string& path) {
    return path.starts_with('/') && path.size() <= 4096 &&
           std::none_of(path.begin(), path.end(), [](char c) {
               return static_cast<unsigned char>(c) < 0x20 || c == ',' || c == '"' || c == '\\';
           });
}

bool plain_word(const std::string& word) {
    return !word.empty() && word.size() <= 64 && std::all_of(word.begin(), word.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == ':';
    });
}

std::string uid_of(const Settings& settings) {
    return settings.user.substr(0, settings.user.find(':'));
}

} // namespace

Settings settings_for(const manifest::Manifest& manifest, std::string user) {
    Settings settings;
    settings.user = std::move(user);
    settings.tmpfs.emplace_back("/tmp");
    const auto& rules = manifest.runtime;
    for (const auto& path : rules.writable_paths) {
        if (path.value == "/") {
            settings.read_only = false;
        } else if (std::find(settings.tmpfs.begin(), settings.tmpfs.end(), path.value) ==
                   settings.tmpfs.end()) {
            settings.tmpfs.push_back(path.value);
        }
    }
    std::set<std::string> capabilities;
    for (const auto& name : rules.capabilities) {
        if (auto known = capability_name(name.value)) {
            capabilities.insert(std::move(*known));
        }
    }
    settings.capabilities.assign(capabilities.begin(), capabilities.end());
    std::set<std::string> syscalls;
    for (const auto& name : rules.allow_syscalls) {
        syscalls.insert(name.value);
    }
    settings.allowed_syscalls.assign(syscalls.begin(), syscalls.end());
    return settings;
}

std::string seccomp_profile(const Settings& settings, int indent) {
    std::vector<std::string> allowed(allowed_syscalls().begin(), allowed_syscalls().end());
    allowed.insert(allowed.end(), settings.allowed_syscalls.begin(),
                   settings.allowed_syscalls.end());
    std::sort(allowed.begin(), allowed.end());
    allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());

    ordered rules = ordered::array();
    rules.push_back(rule(allowed, "SCMP_ACT_ALLOW"));
    const auto per_arch = [&](const std::vector<std::string>& names,
                              std::vector<std::string> arches) {
        auto entry = rule(names, "SCMP_ACT_ALLOW");
        entry["includes"] = ordered::object({{"arches", std::move(arches)}});
        rules.push_back(std::move(entry));
    };
    per_arch({"arch_prctl"}, {"amd64", "x32"});
    per_arch({"modify_ldt"}, {"amd64", "x32", "x86"});
    per_arch({"arm_fadvise64_64", "arm_sync_file_range", "breakpoint", "cacheflush", "set_tls",
              "sync_file_range2"},
             {"arm", "arm64"});

    auto clone = rule({"clone"}, "SCMP_ACT_ALLOW");
    clone["args"] = ordered::array({argument(0, k_clone_namespace_flags, "SCMP_CMP_MASKED_EQ")});
    clone["comment"] = "processes and threads, without new namespaces";
    rules.push_back(std::move(clone));
    auto clone3 = rule({"clone3"}, "SCMP_ACT_ERRNO");
    clone3["errnoRet"] = k_enosys;
    clone3["comment"] = "its flags are out of seccomp's sight: ENOSYS makes the C library fall "
                        "back to clone";
    rules.push_back(std::move(clone3));
    for (const auto& [index, value] : {std::pair{0, k_af_netlink}, std::pair{2, k_netlink_audit}}) {
        auto socket = rule({"socket"}, "SCMP_ACT_ALLOW");
        socket["args"] =
            ordered::array({argument(index, static_cast<std::uint64_t>(value), "SCMP_CMP_NE")});
        rules.push_back(std::move(socket));
    }
    auto audit = rule({"socket"}, "SCMP_ACT_ERRNO");
    audit["args"] = ordered::array(
        {argument(0, k_af_netlink, "SCMP_CMP_EQ"), argument(2, k_netlink_audit, "SCMP_CMP_EQ")});
    audit["errnoRet"] = k_einval;
    audit["comment"] = "no audit messages without CAP_AUDIT_WRITE";
    rules.push_back(std::move(audit));

    for (const auto& denial : denials()) {
        auto names = still_denied(settings, denial.names);
        if (names.empty()) {
            continue;
        }
        auto entry = rule(names, "SCMP_ACT_ERRNO");
        entry["errnoRet"] = k_eperm;
        entry["comment"] = denial.reason;
        rules.push_back(std::move(entry));
    }
    auto by_default = still_denied(settings, denied_by_default());
    if (!by_default.empty()) {
        auto entry = rule(by_default, "SCMP_ACT_ERRNO");
        entry["errnoRet"] = k_eperm;
        entry["comment"] = "denied by the runtime's default to a process without capabilities";
        rules.push_back(std::move(entry));
    }
    // Every array and object spelled out: a braced list of one element is an array to one
    // compiler and the element itself to another.
    ordered arch_map = ordered::array();
    arch_map.push_back(ordered::object(
        {{"architecture", "SCMP_ARCH_X86_64"},
         {"subArchitectures", ordered::array({"SCMP_ARCH_X86", "SCMP_ARCH_X32"})}}));
    arch_map.push_back(ordered::object({{"architecture", "SCMP_ARCH_AARCH64"},
                                        {"subArchitectures", ordered::array({"SCMP_ARCH_ARM"})}}));
    ordered profile = ordered::object();
    profile["defaultAction"] = "SCMP_ACT_ERRNO";
    profile["defaultErrnoRet"] = k_enosys;
    profile["archMap"] = std::move(arch_map);
    profile["syscalls"] = std::move(rules);
    return profile.dump(indent) + (indent < 0 ? "" : "\n");
}

std::string settings_json(const Settings& settings) {
    const auto out = ordered::object({{"user", settings.user},
                                      {"read_only", settings.read_only},
                                      {"tmpfs", settings.tmpfs},
                                      {"capabilities", settings.capabilities},
                                      {"no_new_privileges", settings.no_new_privileges},
                                      {"allowed_syscalls", settings.allowed_syscalls}});
    return out.dump();
}

Settings settings_from_json(std::string_view text) {
    if (text.size() > k_max_settings_size) {
        throw Error(fmt::format("the label {} is {} bytes, more than a run settings label has",
                                k_settings_label, text.size()));
    }
    const auto document = nlohmann::json::parse(text, nullptr, false);
    if (!document.is_object()) {
        throw Error(fmt::format("the label {} is not a JSON object", k_settings_label));
    }
    const auto problem = [](const std::string& what) {
        return Error(fmt::format("the label {}: {}", k_settings_label, what));
    };
    const auto strings = [&](const char* key, const auto& valid) {
        std::vector<std::string> out;
        const auto found = document.find(key);
        if (found == document.end()) {
            return out;
        }
        if (!found->is_array() || found->size() > k_max_entries) {
            throw problem(
                fmt::format("`{}` is not a list of at most {} strings", key, k_max_entries));
        }
        for (const auto& item : *found) {
            if (!item.is_string() || !valid(item.get<std::string>())) {
                throw problem(fmt::format("`{}` holds `{}`, which is not valid there", key,
                                          core::printable(item.dump())));
            }
            out.push_back(item.get<std::string>());
        }
        return out;
    };
    Settings settings;
    const auto user = document.find("user");
    if (user == document.end() || !user->is_string() || !plain_word(user->get<std::string>())) {
        throw problem("`user` is not a user id");
    }
    settings.user = user->get<std::string>();
    const auto flag = [&](const char* key, bool fallback) {
        const auto found = document.find(key);
        if (found == document.end()) {
            return fallback;
        }
        if (!found->is_boolean()) {
            throw problem(fmt::format("`{}` is not true or false", key));
        }
        return found->get<bool>();
    };
    settings.read_only = flag("read_only", true);
    settings.no_new_privileges = flag("no_new_privileges", true);
    settings.tmpfs = strings("tmpfs", plain_path);
    settings.capabilities = strings("capabilities", [](const std::string& name) {
        const auto known = capability_name(name);
        return known && *known == name;
    });
    settings.allowed_syscalls = strings("allowed_syscalls", [](const std::string& name) {
        return plain_word(name) && syscall_rule(name) != SyscallRule::unknown;
    });
    return settings;
}

std::string run_command(std::string_view tool, const Settings& settings, std::string_view profile,
                        std::string_view image) {
    std::vector<std::string> words{std::string(tool), "run"};
    if (settings.read_only) {
        words.emplace_back("--read-only");
        if (tool == "podman") {
            // Else podman mounts writable, executable tmpfs on /run, /tmp and /var/tmp.
            words.emplace_back("--read-only-tmpfs=false");
        }
    }
    for (const auto& path : settings.tmpfs) {
        words.push_back(fmt::format("--tmpfs {}:{}", path, k_tmpfs_options));
    }
    words.emplace_back("--cap-drop=ALL");
    for (const auto& capability : settings.capabilities) {
        words.push_back(fmt::format("--cap-add={}", capability));
    }
    if (settings.no_new_privileges) {
        words.emplace_back("--security-opt=no-new-privileges");
    }
    words.push_back(fmt::format("--security-opt=seccomp={}", profile));
    words.push_back(fmt::format("--user={}", settings.user));
    words.emplace_back(image);
    return fmt::format("{}", fmt::join(words, " "));
}

std::string kubernetes_security_context(const Settings& settings,
                                        std::string_view localhost_profile) {
    const auto uid = uid_of(settings);
    const auto colon = settings.user.find(':');
    const auto gid = colon == std::string::npos ? uid : settings.user.substr(colon + 1);
    std::string out = "securityContext:\n";
    out += fmt::format("  runAsNonRoot: {}\n", uid == "0" ? "false" : "true");
    out += fmt::format("  runAsUser: {}\n  runAsGroup: {}\n", uid, gid);
    out += fmt::format("  readOnlyRootFilesystem: {}\n", settings.read_only ? "true" : "false");
    out += fmt::format("  allowPrivilegeEscalation: {}\n",
                       settings.no_new_privileges ? "false" : "true");
    out += "  capabilities:\n    drop: [ALL]\n";
    if (!settings.capabilities.empty()) {
        std::vector<std::string> names;
        for (const auto& capability : settings.capabilities) {
            names.push_back(capability.substr(4)); // Kubernetes spells them without CAP_
        }
        out += fmt::format("    add: [{}]\n", fmt::join(names, ", "));
    }
    out += fmt::format("  seccompProfile:\n    type: Localhost\n    localhostProfile: {}\n",
                       localhost_profile);
    return out;
}

std::vector<std::string> relaxations(const Settings& settings) {
    std::vector<std::string> out;
    if (!settings.allowed_syscalls.empty()) {
        out.push_back(fmt::format("system calls allowed that the profile denies: {}",
                                  fmt::join(settings.allowed_syscalls, ", ")));
    }
    if (!settings.capabilities.empty()) {
        out.push_back(fmt::format("capabilities kept: {}", fmt::join(settings.capabilities, ", ")));
    }
    if (!settings.read_only) {
        out.emplace_back("the root file system stays writable");
    }
    if (settings.tmpfs.size() > 1) {
        out.push_back(
            fmt::format("writable directories (tmpfs) besides /tmp: {}",
                        fmt::join(settings.tmpfs.begin() + 1, settings.tmpfs.end(), ", ")));
    }
    return out;
}

std::size_t denied_count(const Settings& settings) {
    std::size_t count = still_denied(settings, denied_by_default()).size();
    for (const auto& denial : denials()) {
        count += still_denied(settings, denial.names).size();
    }
    return count;
}

} // namespace distill::runtime
