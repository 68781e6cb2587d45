#include <algorithm>
#include <array>
#include <cctype>

#include <distill/runtime/syscalls.hpp>

namespace distill::runtime {
namespace {

// What container runtimes' default seccomp profiles (Docker's, and the containers-common one
// podman and CRI-O use) allow a process that holds no capability, less what denials() takes
// away and the calls the profile treats apart: clone and clone3 (namespaces), socket (the
// audit netlink family) and personality (denied). The tests compare this with the host
// runtime's default profile.
constexpr std::array<std::string_view, 353> k_allowed{"_llseek",
                                                      "_newselect",
                                                      "accept",
                                                      "accept4",
                                                      "access",
                                                      "adjtimex",
                                                      "alarm",
                                                      "bind",
                                                      "brk",
                                                      "capget",
                                                      "capset",
                                                      "chdir",
                                                      "chmod",
                                                      "chown",
                                                      "chown32",
                                                      "clock_adjtime",
                                                      "clock_adjtime64",
                                                      "clock_getres",
                                                      "clock_getres_time64",
                                                      "clock_gettime",
                                                      "clock_gettime64",
                                                      "clock_nanosleep",
                                                      "clock_nanosleep_time64",
                                                      "close",
                                                      "close_range",
                                                      "connect",
                                                      "copy_file_range",
                                                      "creat",
                                                      "dup",
                                                      "dup2",
                                                      "dup3",
                                                      "epoll_create",
                                                      "epoll_create1",
                                                      "epoll_ctl",
                                                      "epoll_ctl_old",
                                                      "epoll_pwait",
                                                      "epoll_pwait2",
                                                      "epoll_wait",
                                                      "epoll_wait_old",
                                                      "eventfd",
                                                      "eventfd2",
                                                      "execve",
                                                      "execveat",
                                                      "exit",
                                                      "exit_group",
                                                      "faccessat",
                                                      "faccessat2",
                                                      "fadvise64",
                                                      "fadvise64_64",
                                                      "fallocate",
                                                      "fanotify_mark",
                                                      "fchdir",
                                                      "fchmod",
                                                      "fchmodat",
                                                      "fchown",
                                                      "fchown32",
                                                      "fchownat",
                                                      "fcntl",
                                                      "fcntl64",
                                                      "fdatasync",
                                                      "fgetxattr",
                                                      "flistxattr",
                                                      "flock",
                                                      "fork",
                                                      "fremovexattr",
                                                      "fsetxattr",
                                                      "fstat",
                                                      "fstat64",
                                                      "fstatat64",
                                                      "fstatfs",
                                                      "fstatfs64",
                                                      "fsync",
                                                      "ftruncate",
                                                      "ftruncate64",
                                                      "futex",
                                                      "futex_time64",
                                                      "futimesat",
                                                      "get_mempolicy",
                                                      "get_robust_list",
                                                      "get_thread_area",
                                                      "getcpu",
                                                      "getcwd",
                                                      "getdents",
                                                      "getdents64",
                                                      "getegid",
                                                      "getegid32",
                                                      "geteuid",
                                                      "geteuid32",
                                                      "getgid",
                                                      "getgid32",
                                                      "getgroups",
                                                      "getgroups32",
                                                      "getitimer",
                                                      "getpeername",
                                                      "getpgid",
                                                      "getpgrp",
                                                      "getpid",
                                                      "getppid",
                                                      "getpriority",
                                                      "getrandom",
                                                      "getresgid",
                                                      "getresgid32",
                                                      "getresuid",
                                                      "getresuid32",
                                                      "getrlimit",
                                                      "getrusage",
                                                      "getsid",
                                                      "getsockname",
                                                      "getsockopt",
                                                      "gettid",
                                                      "gettimeofday",
                                                      "getuid",
                                                      "getuid32",
                                                      "getxattr",
                                                      "inotify_add_watch",
                                                      "inotify_init",
                                                      "inotify_init1",
                                                      "inotify_rm_watch",
                                                      "io_cancel",
                                                      "io_destroy",
                                                      "io_getevents",
                                                      "io_setup",
                                                      "io_submit",
                                                      "ioctl",
                                                      "ioprio_get",
                                                      "ioprio_set",
                                                      "ipc",
                                                      "kill",
                                                      "landlock_add_rule",
                                                      "landlock_create_ruleset",
                                                      "landlock_restrict_self",
                                                      "lchown",
                                                      "lchown32",
                                                      "lgetxattr",
                                                      "link",
                                                      "linkat",
                                                      "listen",
                                                      "listxattr",
                                                      "llistxattr",
                                                      "lremovexattr",
                                                      "lseek",
                                                      "lsetxattr",
                                                      "lstat",
                                                      "lstat64",
                                                      "madvise",
                                                      "mbind",
                                                      "membarrier",
                                                      "memfd_create",
                                                      "memfd_secret",
                                                      "mincore",
                                                      "mkdir",
                                                      "mkdirat",
                                                      "mknod",
                                                      "mknodat",
                                                      "mlock",
                                                      "mlock2",
                                                      "mlockall",
                                                      "mmap",
                                                      "mmap2",
                                                      "mprotect",
                                                      "mq_getsetattr",
                                                      "mq_notify",
                                                      "mq_open",
                                                      "mq_timedreceive",
                                                      "mq_timedreceive_time64",
                                                      "mq_timedsend",
                                                      "mq_timedsend_time64",
                                                      "mq_unlink",
                                                      "mremap",
                                                      "msgctl",
                                                      "msgget",
                                                      "msgrcv",
                                                      "msgsnd",
                                                      "msync",
                                                      "munlock",
                                                      "munlockall",
                                                      "munmap",
                                                      "name_to_handle_at",
                                                      "nanosleep",
                                                      "newfstatat",
                                                      "open",
                                                      "openat",
                                                      "openat2",
                                                      "pause",
                                                      "pidfd_getfd",
                                                      "pidfd_open",
                                                      "pidfd_send_signal",
                                                      "pipe",
                                                      "pipe2",
                                                      "pkey_alloc",
                                                      "pkey_free",
                                                      "pkey_mprotect",
                                                      "poll",
                                                      "ppoll",
                                                      "ppoll_time64",
                                                      "prctl",
                                                      "pread64",
                                                      "preadv",
                                                      "preadv2",
                                                      "prlimit64",
                                                      "process_mrelease",
                                                      "pselect6",
                                                      "pselect6_time64",
                                                      "pwrite64",
                                                      "pwritev",
                                                      "pwritev2",
                                                      "read",
                                                      "readahead",
                                                      "readdir",
                                                      "readlink",
                                                      "readlinkat",
                                                      "readv",
                                                      "recv",
                                                      "recvfrom",
                                                      "recvmmsg",
                                                      "recvmmsg_time64",
                                                      "recvmsg",
                                                      "remap_file_pages",
                                                      "removexattr",
                                                      "rename",
                                                      "renameat",
                                                      "renameat2",
                                                      "restart_syscall",
                                                      "rmdir",
                                                      "rseq",
                                                      "rt_sigaction",
                                                      "rt_sigpending",
                                                      "rt_sigprocmask",
                                                      "rt_sigqueueinfo",
                                                      "rt_sigreturn",
                                                      "rt_sigsuspend",
                                                      "rt_sigtimedwait",
                                                      "rt_sigtimedwait_time64",
                                                      "rt_tgsigqueueinfo",
                                                      "sched_get_priority_max",
                                                      "sched_get_priority_min",
                                                      "sched_getaffinity",
                                                      "sched_getattr",
                                                      "sched_getparam",
                                                      "sched_getscheduler",
                                                      "sched_rr_get_interval",
                                                      "sched_rr_get_interval_time64",
                                                      "sched_setaffinity",
                                                      "sched_setattr",
                                                      "sched_setparam",
                                                      "sched_setscheduler",
                                                      "sched_yield",
                                                      "seccomp",
                                                      "select",
                                                      "semctl",
                                                      "semget",
                                                      "semop",
                                                      "semtimedop",
                                                      "semtimedop_time64",
                                                      "send",
                                                      "sendfile",
                                                      "sendfile64",
                                                      "sendmmsg",
                                                      "sendmsg",
                                                      "sendto",
                                                      "set_mempolicy",
                                                      "set_robust_list",
                                                      "set_thread_area",
                                                      "set_tid_address",
                                                      "setfsgid",
                                                      "setfsgid32",
                                                      "setfsuid",
                                                      "setfsuid32",
                                                      "setgid",
                                                      "setgid32",
                                                      "setgroups",
                                                      "setgroups32",
                                                      "setitimer",
                                                      "setpgid",
                                                      "setpriority",
                                                      "setregid",
                                                      "setregid32",
                                                      "setresgid",
                                                      "setresgid32",
                                                      "setresuid",
                                                      "setresuid32",
                                                      "setreuid",
                                                      "setreuid32",
                                                      "setrlimit",
                                                      "setsid",
                                                      "setsockopt",
                                                      "setuid",
                                                      "setuid32",
                                                      "setxattr",
                                                      "shmat",
                                                      "shmctl",
                                                      "shmdt",
                                                      "shmget",
                                                      "shutdown",
                                                      "sigaction",
                                                      "sigaltstack",
                                                      "signal",
                                                      "signalfd",
                                                      "signalfd4",
                                                      "sigpending",
                                                      "sigprocmask",
                                                      "sigreturn",
                                                      "sigsuspend",
                                                      "socketcall",
                                                      "socketpair",
                                                      "splice",
                                                      "stat",
                                                      "stat64",
                                                      "statfs",
                                                      "statfs64",
                                                      "statx",
                                                      "symlink",
                                                      "symlinkat",
                                                      "sync",
                                                      "sync_file_range",
                                                      "syncfs",
                                                      "syscall",
                                                      "sysinfo",
                                                      "tee",
                                                      "tgkill",
                                                      "time",
                                                      "timer_create",
                                                      "timer_delete",
                                                      "timer_getoverrun",
                                                      "timer_gettime",
                                                      "timer_gettime64",
                                                      "timer_settime",
                                                      "timer_settime64",
                                                      "timerfd",
                                                      "timerfd_create",
                                                      "timerfd_gettime",
                                                      "timerfd_gettime64",
                                                      "timerfd_settime",
                                                      "timerfd_settime64",
                                                      "times",
                                                      "tkill",
                                                      "truncate",
                                                      "truncate64",
                                                      "ugetrlimit",
                                                      "umask",
                                                      "uname",
                                                      "unlink",
                                                      "unlinkat",
                                                      "utime",
                                                      "utimensat",
                                                      "utimensat_time64",
                                                      "utimes",
                                                      "vfork",
                                                      "wait4",
                                                      "waitid",
                                                      "waitpid",
                                                      "write",
                                                      "writev"};

// Calls the runtimes' default denies to a process without capabilities already (obsolete
// calls, clock and host name changes, raw I/O, quotas, ...): the profile denies them too.
constexpr std::array<std::string_view, 36> k_denied_by_default{
    "bdflush",        "clock_settime",   "clock_settime64",
    "fanotify_init",  "io_pgetevents",   "ioperm",
    "iopl",           "lookup_dcookie",  "migrate_pages",
    "move_pages",     "nfsservctl",      "nice",
    "oldfstat",       "oldlstat",        "oldolduname",
    "oldstat",        "olduname",        "pciconfig_iobase",
    "pciconfig_read", "pciconfig_write", "query_module",
    "quotactl",       "setdomainname",   "sethostname",
    "settimeofday",   "sgetmask",        "ssetmask",
    "stime",          "swapcontext",     "sysfs",
    "uselib",         "ustat",           "vhangup",
    "vm86",           "vm86old",         "vmsplice"};

// Calls only some architectures have; the profile names them per architecture.
constexpr std::array<std::string_view, 8> k_allowed_per_arch{
    "arch_prctl", "arm_fadvise64_64", "arm_sync_file_range", "breakpoint", "cacheflush",
    "modify_ldt", "set_tls",          "sync_file_range2"};

constexpr std::array<std::string_view, 3> k_treated_apart{"clone", "clone3", "socket"};

constexpr std::array<std::string_view, 41> k_capabilities{
    "CAP_AUDIT_CONTROL",   "CAP_AUDIT_READ",   "CAP_AUDIT_WRITE",
    "CAP_BLOCK_SUSPEND",   "CAP_BPF",          "CAP_CHECKPOINT_RESTORE",
    "CAP_CHOWN",           "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",          "CAP_FSETID",       "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",       "CAP_KILL",         "CAP_LEASE",
    "CAP_LINUX_IMMUTABLE", "CAP_MAC_ADMIN",    "CAP_MAC_OVERRIDE",
    "CAP_MKNOD",           "CAP_NET_ADMIN",    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",   "CAP_NET_RAW",      "CAP_PERFMON",
    "CAP_SETFCAP",         "CAP_SETGID",       "CAP_SETPCAP",
    "CAP_SETUID",          "CAP_SYSLOG",       "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",        "CAP_SYS_CHROOT",   "CAP_SYS_MODULE",
    "CAP_SYS_NICE",        "CAP_SYS_PACCT",    "CAP_SYS_PTRACE",
    "CAP_SYS_RAWIO",       "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",  "CAP_WAKE_ALARM"};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& names, std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

} // namespace

const std::vector<Denial>& denials() {
    static const std::vector<Denial> list{
        {{"mount", "umount", "umount2", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount",
          "open_tree", "mount_setattr"},
         "mounts and unmounts file systems: a service never changes its mounts, an attacker does "
         "to reach the host's files or hide their own"},
        {{"chroot", "pivot_root"},
         "changes the root directory: the work of a container runtime or an init system, not of "
         "a service"},
        {{"unshare", "setns"},
         "makes or joins namespaces (clone with namespace flags is refused too): the first step "
         "of many container escapes and of kernel exploits that need a user namespace"},
        {{"ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "process_madvise"},
         "reads or writes another process's memory: what a debugger does, and an attacker "
         "injecting code"},
        {{"keyctl", "add_key", "request_key"},
         "the kernel keyring, which is not namespaced: keys of other containers and of the host "
         "are within reach"},
        {{"bpf", "perf_event_open"},
         "loads programs into the kernel or watches other processes: much kernel attack "
         "surface, used by no service"},
        {{"userfaultfd"},
         "lets a process stall the kernel on a page fault: a tool for winning kernel races in "
         "exploits"},
        {{"io_uring_setup", "io_uring_enter", "io_uring_register"},
         "submits work that seccomp never sees, through one of the kernel's largest attack "
         "surfaces; no runtime distill ships uses it"},
        {{"kexec_load", "kexec_file_load", "reboot"},
         "restarts the machine or loads another kernel"},
        {{"init_module", "finit_module", "delete_module"}, "loads or removes kernel modules"},
        {{"open_by_handle_at"},
         "opens a file by its handle, past the container's mount namespace: the call of the "
         "first container escape"},
        {{"personality"},
         "changes the execution domain, for example to turn off address-space randomisation for "
         "the programs it starts"},
        {{"acct"}, "switches process accounting on the host"},
        {{"swapon", "swapoff"}, "adds or removes the host's swap"},
        {{"syslog"}, "reads or clears the kernel's log, which gives kernel addresses away"},
    };
    return list;
}

SyscallRule syscall_rule(std::string_view name) {
    for (const auto& denial : denials()) {
        if (std::find(denial.names.begin(), denial.names.end(), name) != denial.names.end()) {
            return SyscallRule::denied;
        }
    }
    if (std::binary_search(k_allowed.begin(), k_allowed.end(), name) ||
        contains(k_allowed_per_arch, name) || contains(k_treated_apart, name)) {
        return SyscallRule::allowed;
    }
    if (std::binary_search(k_denied_by_default.begin(), k_denied_by_default.end(), name)) {
        return SyscallRule::denied_by_default;
    }
    return SyscallRule::unknown;
}

const std::vector<std::string_view>& allowed_syscalls() {
    static const std::vector<std::string_view> list(k_allowed.begin(), k_allowed.end());
    return list;
}

const std::vector<std::string_view>& denied_by_default() {
    static const std::vector<std::string_view> list(k_denied_by_default.begin(),
                                                    k_denied_by_default.end());
    return list;
}

std::optional<std::string> capability_name(std::string_view name) {
    if (name.size() > 64) {
        return std::nullopt;
    }
    std::string upper;
    for (const char c : name) {
        upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (!upper.starts_with("CAP_")) {
        upper = "CAP_" + upper;
    }
    if (!contains(k_capabilities, upper)) {
        return std::nullopt;
    }
    return upper;
}

const std::vector<std::string_view>& capabilities() {
    static const std::vector<std::string_view> list(k_capabilities.begin(), k_capabilities.end());
    return list;
}

} // namespace distill::runtime
