#include <fmt/format.h>

#include <distill/distro/arch.hpp>
#include <distill/sources/sources.hpp>

namespace distill::sources {

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
