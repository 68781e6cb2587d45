#pragma once

#include <filesystem>
#include <string>

namespace distill::distro::alpine {

/// The mirror a manifest without a source URL uses: DISTILL_ALPINE_MIRROR. Alpine's own CDN is
/// not assumed (a build should not reach out to a host nobody configured); throws saying how
/// to configure one.
[[nodiscard]] std::string default_mirror();

/// The keys a source without `keyring` is checked against: DISTILL_ALPINE_KEYRING, else the
/// host's apk keys (/etc/apk/keys, then /usr/share/apk/keys) when it has them; throws saying
/// how to name one.
[[nodiscard]] std::filesystem::path default_keyring();

} // namespace distill::distro::alpine
