#include <algorithm>

#include <fmt/format.h>

#include <distill/distro/alpine/alpine.hpp>
#include <distill/distro/arch.hpp>
#include <distill/distro/debian/debian.hpp>
#include <distill/distro/distro.hpp>

namespace distill::distro {

std::vector<sources::Repository> make_repositories(const manifest::Manifest& manifest,
                                                   const HostDefaults& host) {
    const auto strip_slash = [](std::string url) {
        while (url.ends_with('/')) {
            url.pop_back();
        }
        return url;
    };
    const auto found = manifest.values.find("release");
    const manifest::Location release_where =
        found != manifest.values.end() ? found->second : manifest::Location{manifest.path, 1, 1};
    std::vector<sources::Repository> repositories;
    for (const auto& source : manifest.sources) {
        for (std::size_t i = 0; i < source.suites.size(); ++i) {
            const auto& suite = source.suites[i];
            sources::Repository repository;
            repository.distro = manifest.distro;
            repository.url = source.url.empty() ? host.mirror(suite) : strip_slash(source.url);
            repository.suite = suite;
            repository.components = source.components;
            repository.keyring = source.keyring.empty() ? host.keyring() : source.keyring;
            repository.where = source.where;
            repository.tag = source.tag;
            repository.release = manifest.release;
            if (source.suites_from_release) {
                repository.suite_origin = sources::SuiteOrigin::release;
                repository.suite_where = release_where;
            } else {
                const auto entry = source.values.find(fmt::format("suites.{}", i));
                repository.suite_origin = sources::SuiteOrigin::suites;
                repository.suite_where =
                    entry != source.values.end() ? entry->second : source.where;
            }
            repositories.push_back(std::move(repository));
        }
    }
    return repositories;
}

std::span<const Distro* const> all() {
    // Every distro this distill implements, one line each.
    static const Distro* const distros[] = {
        &debian::distro(),
        &alpine::distro(),
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

const Distro& get(const manifest::Manifest& manifest) {
    if (const Distro* distro = find(manifest.distro)) {
        return *distro;
    }
    throw Error(fmt::format("{}: distro {} is not supported by this version of distill yet",
                            manifest.path.string(), manifest::to_string(manifest.distro)));
}

void validate(const manifest::Manifest& manifest) {
    manifest::validate(manifest, find(manifest.distro));
}

manifest::Loaded load_manifest(const std::filesystem::path& path,
                               const std::vector<std::string>& archs) {
    // Hints name a release before the manifest has said its distro: the first distro's.
    auto parsed = manifest::parse(path, all().front()->example_release());
    validate(parsed);
    manifest::Loaded loaded{path, manifest::with_defaults(std::move(parsed)), archs};
    if (loaded.archs.empty()) {
        for (const auto& arch : loaded.manifest.archs) {
            loaded.archs.push_back(arch.value);
        }
    }
    if (loaded.archs.empty()) {
        loaded.archs.push_back(host_arch(loaded.manifest.distro));
    }
    return loaded;
}

} // namespace distill::distro
