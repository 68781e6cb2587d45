#include <algorithm>

#include <fmt/format.h>

#include <distill/distro/debian/debian.hpp>
#include <distill/distro/distro.hpp>

namespace distill::distro {

std::span<const Distro* const> all() {
    // Every distro this distill implements, one line each.
    static const Distro* const distros[] = {
        &debian::distro(),
    };
    return distros;
}

const Distro* find(manifest::Distro id) {
    const auto distros = all();
    const auto found = std::find_if(distros.begin(), distros.end(),
                                    [&](const Distro* distro) { return distro->id() == id; });
    return found == distros.end() ? nullptr : *found;
}

const Distro& get(manifest::Distro id) {
    if (const Distro* distro = find(id)) {
        return *distro;
    }
    throw Error(fmt::format("distro {} is not supported by this version of distill yet",
                            manifest::to_string(id)));
}

void validate(const manifest::Manifest& manifest) {
    manifest::validate(manifest, find(manifest.distro));
}

} // namespace distill::distro
