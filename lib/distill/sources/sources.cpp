#include <fmt/format.h>
#include <fmt/ranges.h>

#include <distill/distro/arch.hpp>
#include <distill/sources/debian/archive.hpp>
#include <distill/sources/debian/host.hpp>
#include <distill/sources/sources.hpp>

namespace distill::sources {
namespace {

std::string strip_slash(std::string url) {
    while (url.ends_with('/')) {
        url.pop_back();
    }
    return url;
}

std::vector<Repository> debian_repositories(const manifest::Manifest& manifest) {
    std::vector<Repository> repositories;
    std::optional<debian::Mirrors> mirrors;
    auto default_url = [&](const std::string& suite) {
        if (!mirrors) {
            mirrors = debian::default_mirrors(manifest.release);
        }
        return suite.ends_with("-security") ? mirrors->security : mirrors->archive;
    };

    std::vector<manifest::Source> wanted = manifest.sources;
    if (wanted.empty()) {
        manifest::Source source;
        source.where = manifest::Location{manifest.path, 0, 0};
        wanted.push_back(source);
    }
    const auto found = manifest.values.find("release");
    const manifest::Location release_where =
        found != manifest.values.end() ? found->second : manifest::Location{manifest.path, 1, 1};
    for (const auto& source : wanted) {
        const bool from_release = source.suites.empty();
        const auto suites = from_release
                                ? manifest::default_suites(manifest.distro, manifest.release)
                                : source.suites;
        for (std::size_t i = 0; i < suites.size(); ++i) {
            const auto& suite = suites[i];
            Repository repository;
            repository.distro = manifest::Distro::debian;
            repository.url = source.url.empty() ? default_url(suite) : strip_slash(source.url);
            repository.suite = suite;
            repository.components =
                source.components.empty() ? std::vector<std::string>{"main"} : source.components;
            repository.keyring = source.keyring.empty()
                                     ? std::filesystem::path(debian::k_default_keyring)
                                     : source.keyring;
            repository.where = source.where;
            repository.release = manifest.release;
            if (from_release) {
                repository.suite_origin = SuiteOrigin::release;
                repository.suite_where = release_where;
            } else {
                const auto entry = source.values.find(fmt::format("suites.{}", i));
                repository.suite_origin = SuiteOrigin::suites;
                repository.suite_where =
                    entry != source.values.end() ? entry->second : source.where;
            }
            repositories.push_back(std::move(repository));
        }
    }
    return repositories;
}

} // namespace

std::vector<Repository> repositories_for(const manifest::Manifest& manifest) {
    switch (manifest.distro) {
    case manifest::Distro::debian:
        return debian_repositories(manifest);
    case manifest::Distro::alpine:
        break;
    }
    throw Error(fmt::format("{}: distro {} is not supported by this version of distill yet",
                            manifest.path.string(), manifest::to_string(manifest.distro)));
}

IndexSet fetch_indexes(const std::vector<Repository>& repositories, const std::string& arch,
                       Context& context) {
    IndexSet set;
    set.arch = arch;
    for (const auto& repository : repositories) {
        with_context(fmt::format("reading suite {} of {}", repository.suite, repository.url), [&] {
            const auto release = debian::fetch_release(repository, context, set.stats);
            auto indexes =
                debian::fetch_package_indexes(repository, release, arch, context, set.stats);
            set.indexes.insert(set.indexes.end(), std::make_move_iterator(indexes.begin()),
                               std::make_move_iterator(indexes.end()));
            auto unused = debian::unused_indexes(repository, release, arch);
            set.unused.insert(set.unused.end(), std::make_move_iterator(unused.begin()),
                              std::make_move_iterator(unused.end()));
        });
    }
    return set;
}

void fetch_unused(std::vector<UnusedIndex>& unused, Context& context, FetchStats& stats) {
    for (auto& entry : unused) {
        with_context(fmt::format("reading {}", entry.index.url), [&] {
            const auto fetched = core::fetch_blob(context.http, context.cache, entry.blob);
            if (fetched.downloaded) {
                ++stats.indexes_downloaded;
                stats.bytes_downloaded += fetched.bytes;
            } else {
                ++stats.indexes_cached;
            }
            entry.index.path = fetched.path;
        });
    }
}

std::string component_hint(const std::string& package, const UnusedIndex& where) {
    const auto& repository = where.repository;
    auto components = repository.components;
    components.push_back(where.index.component);
    const std::string list = fmt::format("components: [{}]", fmt::join(components, ", "));
    const std::string found = fmt::format("{} is in {} of {}, which this manifest does not use",
                                          package, where.index.component, repository.suite);
    if (repository.where.line <= 0) {
        // No `sources` in the manifest: one entry with only components keeps every default.
        return fmt::format("{}; add it with `sources: [{{{}}}]`", found, list);
    }
    return fmt::format("{}; add it with `{}` under sources (the source at {})", found, list,
                       repository.where.str());
}

std::vector<std::string> archs_for(const manifest::Manifest& manifest) {
    std::vector<std::string> archs;
    for (const auto& arch : manifest.archs) {
        archs.push_back(arch.value);
    }
    if (archs.empty()) {
        archs.push_back(distro::host_arch(manifest.distro));
    }
    return archs;
}

} // namespace distill::sources
