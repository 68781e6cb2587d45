#include <fmt/format.h>

#include <distill/core/digest.hpp>
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

std::optional<PinnedCopy> pinned_copy(Context& context, const std::string& url) {
    if (context.pinned == nullptr) {
        return std::nullopt;
    }
    const auto pin = context.pinned->find(url);
    if (pin == context.pinned->end() || !core::is_sha256_hex(pin->second) ||
        !context.cache.has_blob(pin->second)) {
        return std::nullopt;
    }
    auto path = context.cache.blob_path(pin->second);
    if (core::file_hex_digest(path) != pin->second) {
        context.reporter.warning(fmt::format("{}: the cached copy {} is damaged; asking the mirror",
                                             url, path.string()));
        return std::nullopt;
    }
    return PinnedCopy{std::move(path), pin->second};
}

} // namespace distill::sources
