/* Run inside the Alpine images by tests/system/test_alpine_images.py, built with musl-gcc both
 * dynamically (it then needs the image's /lib/ld-musl-x86_64.so.1) and with -static. Prints
 * the user it runs as, the first line of the CA bundle and the ID of /etc/os-release; each
 * argument names a library to dlopen, and the result is printed too. */
#include <dlfcn.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The first line of `path` that starts with `prefix`, without its newline, or "?" when there
 * is none or the file cannot be read. */
static void find_line(const char* path, const char* prefix, char* out, size_t size) {
    snprintf(out, size, "?");
    FILE* file = fopen(path, "r");
    if (file == NULL) {
        return;
    }
    char line[512];
    while (fgets(line, sizeof line, file) != NULL) {
        if (strncmp(line, prefix, strlen(prefix)) == 0) {
            line[strcspn(line, "\n")] = '\0';
            snprintf(out, size, "%s", line + strlen(prefix));
            break;
        }
    }
    fclose(file);
}

int main(int argc, char** argv) {
    const struct passwd* me = getpwuid(getuid());
    printf("uid=%u user=%s\n", (unsigned)getuid(), me != NULL ? me->pw_name : "?");
    char value[512];
    find_line("/etc/ssl/certs/ca-certificates.crt", "", value, sizeof value);
    printf("ca=%s\n", value);
    find_line("/etc/os-release", "ID=", value, sizeof value);
    printf("id=%s\n", value);
    for (int i = 1; i < argc; ++i) {
        void* library = dlopen(argv[i], RTLD_NOW);
        printf("dlopen %s %s\n", argv[i], library != NULL ? "ok" : dlerror());
    }
    return 0;
}
