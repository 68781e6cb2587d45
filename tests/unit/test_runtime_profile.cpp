#include <algorithm>
#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <distill/assemble/busybox.hpp>
#include <distill/core/error.hpp>
#include <distill/runtime/profile.hpp>
#include <distill/runtime/syscalls.hpp>

namespace distill::runtime {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

/// The names of the profile's rules with `action` (and, for SCMP_ACT_ERRNO, `errno_ret`) that
/// have no argument conditions.
std::set<std::string> names_with(const json& profile, const std::string& action,
                                 int errno_ret = 0) {
    std::set<std::string> out;
    for (const auto& rule : profile["syscalls"]) {
        if (rule["action"] != action || rule.contains("args") || rule.contains("includes")) {
            continue;
        }
        if (action == "SCMP_ACT_ERRNO" && rule.value("errnoRet", 0) != errno_ret) {
            continue;
        }
        for (const auto& name : rule["names"]) {
            EXPECT_TRUE(out.insert(name.get<std::string>()).second) << name;
        }
    }
    return out;
}

manifest::Manifest relaxed(std::vector<std::string> syscalls, std::vector<std::string> caps,
                           std::vector<std::string> paths) {
    manifest::Manifest manifest;
    for (auto& name : syscalls) {
        manifest.runtime.allow_syscalls.push_back({std::move(name), {}});
    }
    for (auto& name : caps) {
        manifest.runtime.capabilities.push_back({std::move(name), {}});
    }
    for (auto& path : paths) {
        manifest.runtime.writable_paths.push_back({std::move(path), {}});
    }
    return manifest;
}

TEST(RuntimeProfile, DeniesEveryListedSyscallWithEpermAndAReason) {
    const auto settings = settings_for(manifest::Manifest{}, "65532:65532");
    const auto profile = json::parse(seccomp_profile(settings));
    EXPECT_EQ(profile["defaultAction"], "SCMP_ACT_ERRNO");
    EXPECT_EQ(profile["defaultErrnoRet"], 38); // ENOSYS: new calls fall back
    const auto allowed = names_with(profile, "SCMP_ACT_ALLOW");
    const auto denied = names_with(profile, "SCMP_ACT_ERRNO", 1);
    for (const char* name :
         {"mount",       "umount2",    "ptrace",      "unshare",      "setns",
          "keyctl",      "add_key",    "request_key", "bpf",          "perf_event_open",
          "userfaultfd", "kexec_load", "init_module", "finit_module", "open_by_handle_at",
          "personality", "chroot",     "pivot_root",  "acct",         "swapon",
          "swapoff",     "reboot"}) {
        EXPECT_TRUE(denied.contains(name)) << name;
        EXPECT_FALSE(allowed.contains(name)) << name;
        EXPECT_EQ(syscall_rule(name), SyscallRule::denied) << name;
    }
    for (const auto& rule : profile["syscalls"]) {
        if (rule["action"] == "SCMP_ACT_ERRNO" && rule.value("errnoRet", 0) == 1) {
            EXPECT_GT(rule["comment"].get<std::string>().size(), 20U) << rule.dump();
        }
    }
    for (const char* name : {"read", "write", "openat", "execve", "futex", "mmap", "epoll_wait"}) {
        EXPECT_TRUE(allowed.contains(name)) << name;
        EXPECT_EQ(syscall_rule(name), SyscallRule::allowed) << name;
    }
    // clone only without namespace flags; clone3, whose flags seccomp cannot see, is ENOSYS.
    bool clone = false;
    for (const auto& rule : profile["syscalls"]) {
        if (rule["names"] == json::array({"clone"})) {
            clone = true;
            EXPECT_EQ(rule["args"][0]["op"], "SCMP_CMP_MASKED_EQ");
            EXPECT_EQ(rule["args"][0]["value"], 0x7E020000);
        }
    }
    EXPECT_TRUE(clone);
    EXPECT_TRUE(names_with(profile, "SCMP_ACT_ERRNO", 38).contains("clone3"));
    EXPECT_EQ(denied_count(settings), denied.size());
    EXPECT_EQ(syscall_rule("no_such_call"), SyscallRule::unknown);
    EXPECT_EQ(syscall_rule("ioperm"), SyscallRule::denied_by_default);
}

TEST(RuntimeProfile, TheManifestRelaxesIt) {
    const auto settings = settings_for(
        relaxed({"ptrace", "ioperm"}, {"net_bind_service"}, {"/var/cache/app", "/"}), "0:0");
    const auto profile = json::parse(seccomp_profile(settings));
    const auto allowed = names_with(profile, "SCMP_ACT_ALLOW");
    const auto denied = names_with(profile, "SCMP_ACT_ERRNO", 1);
    EXPECT_TRUE(allowed.contains("ptrace"));
    EXPECT_TRUE(allowed.contains("ioperm"));
    EXPECT_FALSE(denied.contains("ptrace"));
    EXPECT_TRUE(denied.contains("process_vm_readv")); // the rest of its group stays denied
    EXPECT_EQ(settings.capabilities, std::vector<std::string>{"CAP_NET_BIND_SERVICE"});
    EXPECT_FALSE(settings.read_only);
    EXPECT_EQ(settings.tmpfs, (std::vector<std::string>{"/tmp", "/var/cache/app"}));
    const auto lines = relaxations(settings);
    ASSERT_EQ(lines.size(), 4U);
    EXPECT_THAT(lines[0], HasSubstr("ioperm, ptrace"));
    EXPECT_THAT(lines[1], HasSubstr("CAP_NET_BIND_SERVICE"));
    const auto context = kubernetes_security_context(settings, "distill/app.json");
    EXPECT_THAT(context, HasSubstr("runAsNonRoot: false\n"));
    EXPECT_THAT(context, HasSubstr("readOnlyRootFilesystem: false\n"));
    EXPECT_THAT(context, HasSubstr("add: [NET_BIND_SERVICE]\n"));
    EXPECT_THAT(context, HasSubstr("localhostProfile: distill/app.json\n"));
}

TEST(RuntimeProfile, SettingsGoThroughTheirLabelAndFlags) {
    const auto settings = settings_for(relaxed({}, {}, {"/data"}), "65532:65532");
    const auto back = settings_from_json(settings_json(settings));
    EXPECT_EQ(back.user, "65532:65532");
    EXPECT_TRUE(back.read_only);
    EXPECT_EQ(back.tmpfs, settings.tmpfs);
    EXPECT_EQ(run_command("podman", back, "p.json", "oci:out/app:latest"),
              "podman run --read-only --read-only-tmpfs=false --tmpfs /tmp:rw,noexec,nosuid,nodev "
              "--tmpfs /data:rw,noexec,nosuid,nodev --cap-drop=ALL "
              "--security-opt=no-new-privileges --security-opt=seccomp=p.json --user=65532:65532 "
              "oci:out/app:latest");
    EXPECT_THAT(kubernetes_security_context(back, "p.json"), HasSubstr("runAsUser: 65532\n"));
}

TEST(RuntimeProfile, ALabelFromOutsideIsChecked) {
    for (const char* bad :
         {"[]", "{}", R"({"user": "0; rm -rf /"})", R"({"user": "1", "tmpfs": ["relative"]})",
          R"({"user": "1", "tmpfs": ["/a,b"]})", R"({"user": "1", "capabilities": ["CAP_NOPE"]})",
          R"({"user": "1", "capabilities": [""]})",
          R"({"user": "1", "allowed_syscalls": ["nope"]})", R"({"user": "1", "read_only": "no"})",
          "not json"}) {
        EXPECT_THROW((void)settings_from_json(bad), Error) << bad;
    }
    EXPECT_THROW((void)settings_from_json(std::string(70000, ' ')), Error);
}

TEST(RuntimeProfile, CapabilityNamesAreNormalised) {
    EXPECT_EQ(capability_name("net_bind_service"), "CAP_NET_BIND_SERVICE");
    EXPECT_EQ(capability_name("CAP_SYS_PTRACE"), "CAP_SYS_PTRACE");
    EXPECT_FALSE(capability_name("CAP_NOPE"));
    EXPECT_FALSE(capability_name(std::string(100, 'A')));
}

TEST(BusyboxApplets, AreReadFromTheNameTable) {
    const std::string binary = std::string("\x7f"
                                           "ELF junk\0",
                                           9) +
                               std::string("\0[\0[[\0ash\0cat\0ls\0sh\0zcat\0\0more", 31);
    EXPECT_EQ(assemble::busybox_applets(binary),
              (std::vector<std::string>{"[", "[[", "ash", "cat", "ls", "sh", "zcat"}));
}

TEST(BusyboxApplets, SomethingElseIsRefused) {
    EXPECT_THROW((void)assemble::busybox_applets("no table here"), Error);
    // A table without a shell, or one whose order breaks before `sh`.
    EXPECT_THROW((void)assemble::busybox_applets(std::string("\0[\0[[\0cat\0ls\0\0", 14)), Error);
    EXPECT_THROW((void)assemble::busybox_applets(std::string("\0[\0[[\0cat\0bad/name\0sh\0\0", 23)),
                 Error);
    std::string huge("\0[\0[[\0", 6);
    for (int i = 0; i < 1100; ++i) {
        huge += "a" + std::to_string(10000 + i) + std::string(1, '\0');
    }
    EXPECT_THROW((void)assemble::busybox_applets(huge), Error);
}

} // namespace
} // namespace distill::runtime
