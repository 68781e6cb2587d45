/* What an attacker with code execution in a container tries first, one line each:
 * "NAME: allowed" or "NAME: refused (ERRNO)". Built statically by the system tests and run in
 * an image with and without its runtime profile. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char* name, long result) {
    if (result >= 0) {
        printf("%s: allowed\n", name);
    } else {
        printf("%s: refused (%s)\n", name, strerrorname_np(errno));
    }
    fflush(stdout);
}

/* The call in a child, so that what it changes (a namespace, a tracer) stays there. */
static void in_child(const char* name, long (*call)(void)) {
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) {
        return;
    }
    pid_t child = fork();
    if (child == 0) {
        long result = call();
        int error = result >= 0 ? 0 : errno;
        (void)!write(pipe_fds[1], &error, sizeof error);
        _exit(0);
    }
    int error = -1;
    (void)!read(pipe_fds[0], &error, sizeof error);
    waitpid(child, NULL, 0);
    errno = error;
    report(name, error == 0 ? 0 : -1);
}

/* On a directory of its own, unmounted at once: run by mistake as root on a host, it changes
 * nothing. */
static long do_mount(void) {
    char dir[] = "/tmp/probe-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    long result = mount("none", dir, "tmpfs", 0, NULL);
    int error = errno;
    if (result == 0) {
        umount(dir);
    }
    rmdir(dir);
    errno = error;
    return result;
}
static long do_unshare(void) {
    return unshare(CLONE_NEWUSER);
}
static long do_ptrace(void) {
    return ptrace(PTRACE_TRACEME, 0, NULL, NULL);
}
static long do_setns(void) {
    int fd = open("/proc/self/ns/uts", O_RDONLY);
    return fd < 0 ? -1 : setns(fd, CLONE_NEWUTS);
}
static long do_bpf(void) {
    /* BPF_MAP_CREATE of an array map: 4-byte keys and values, one entry. */
    unsigned int attr[16] = {2, 4, 4, 1};
    return syscall(SYS_bpf, 0, attr, sizeof attr);
}
static long do_keyctl(void) {
    /* KEYCTL_GET_KEYRING_ID of the session keyring, creating it. */
    return syscall(SYS_keyctl, 0, -3, 1);
}
static long do_write_root(void) {
    int fd = open("/probe-was-here", O_CREAT | O_WRONLY, 0644);
    return fd < 0 ? -1 : close(fd);
}

int main(void) {
    in_child("mount", do_mount);
    in_child("unshare", do_unshare);
    in_child("setns", do_setns);
    in_child("ptrace", do_ptrace);
    in_child("bpf", do_bpf);
    in_child("keyctl", do_keyctl);
    in_child("write /", do_write_root);
    return 0;
}
