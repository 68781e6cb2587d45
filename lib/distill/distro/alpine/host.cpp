#include <cstdlib>

#include <distill/core/error.hpp>
#include <distill/distro/alpine/host.hpp>

namespace distill::distro::alpine {
namespace {

std::string env(const char* name) {
    const char* value = std::getenv(name);
    std::string text = value != nullptr ? value : "";
    while (text.ends_with('/')) {
        text.pop_back();
    }
    return text;
}

} // namespace

std::string default_mirror() {
    if (auto mirror = env("DISTILL_ALPINE_MIRROR"); !mirror.empty()) {
        return mirror;
    }
    throw Error("no Alpine mirror is configured: set `url` under sources in the manifest (for "
                "example https://dl-cdn.alpinelinux.org/alpine) or DISTILL_ALPINE_MIRROR");
}

std::filesystem::path default_keyring() {
    if (auto keys = env("DISTILL_ALPINE_KEYRING"); !keys.empty()) {
        return keys;
    }
    std::error_code ignored;
    for (const char* dir : {"/etc/apk/keys", "/usr/share/apk/keys"}) {
        if (std::filesystem::is_directory(dir, ignored)) {
            return dir;
        }
    }
    throw Error("no Alpine signing keys are configured: set `keyring` under sources in the "
                "manifest (a .rsa.pub file or a directory of them, as in the alpine-keys "
                "package) or DISTILL_ALPINE_KEYRING");
}

} // namespace distill::distro::alpine
