// The runtime profile's labels (dev.distill.runtime, as a layout from anywhere holds it, which
// `distill inspect --run` reads) and a busybox binary's table of applet names (the debug
// variant reads it from a package). The first byte picks which.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <distill/assemble/busybox.hpp>
#include <distill/core/error.hpp>
#include <distill/runtime/profile.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    try {
        if (data[0] % 2 == 0) {
            const auto settings = distill::runtime::settings_from_json(text);
            // What --run prints of a label it took must not break either.
            (void)distill::runtime::run_command("podman", settings, "p.json", "oci:x");
            (void)distill::runtime::kubernetes_security_context(settings, "p.json");
            (void)distill::runtime::seccomp_profile(settings);
        } else {
            (void)distill::assemble::busybox_applets(text);
        }
    } catch (const distill::Error&) {
        // Refused, as outside data may be.
    }
    return 0;
}
