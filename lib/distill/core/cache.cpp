#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <distill/core/cache.hpp>
#include <distill/core/digest.hpp>
#include <distill/core/error.hpp>
#include <distill/core/path.hpp>

namespace distill::core {

Cache::Cache(std::filesystem::path root)
    : m_root(std::move(root)) {
    std::error_code ec;
    std::filesystem::create_directories(m_root / "blobs" / "sha256", ec);
    if (ec) {
        throw Error(fmt::format("{}: cannot create the cache directory: {}", m_root.string(),
                                ec.message()));
    }
    // Temporary files of runs that were killed (a SIGKILL leaves no chance to remove them).
    remove_stale(m_root, temporary_prefix(), true);
}

std::filesystem::path Cache::default_root() {
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg == '/') {
        return std::filesystem::path(xdg) / "distill";
    }
    if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
        return std::filesystem::path(home) / ".cache" / "distill";
    }
    throw Error("cannot find a cache directory: neither XDG_CACHE_HOME nor HOME is set; "
                "give one with --cache-dir");
}

std::filesystem::path Cache::blob_path(std::string_view sha256) const {
    return m_root / "blobs" / "sha256" / safe_component(sha256, "cache blob digest");
}

bool Cache::has_blob(std::string_view sha256) const {
    std::error_code ec;
    return is_sha256_hex(sha256) && std::filesystem::is_regular_file(blob_path(sha256), ec);
}

AtomicFile Cache::new_blob_file() const {
    return AtomicFile(m_root / "blobs" / "sha256" / "new");
}

std::optional<UrlRecord> Cache::url_record(std::string_view url) const {
    const auto path = m_root / "urls" / (sha256_hex(url) + ".json");
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        return std::nullopt;
    }
    try {
        const auto json = nlohmann::json::parse(read_file(path));
        UrlRecord record{json.at("url").get<std::string>(), json.value("etag", ""),
                         json.value("last_modified", ""), json.at("sha256").get<std::string>()};
        if (record.url != url || !has_blob(record.sha256)) {
            return std::nullopt;
        }
        return record;
    } catch (const nlohmann::json::exception&) {
        // A record we cannot read is as good as none: the next download replaces it.
        return std::nullopt;
    }
}

void Cache::store_url_record(const UrlRecord& record) const {
    const nlohmann::json json = {{"url", record.url},
                                 {"etag", record.etag},
                                 {"last_modified", record.last_modified},
                                 {"sha256", record.sha256}};
    write_file_atomic(m_root / "urls" / (sha256_hex(record.url) + ".json"), json.dump(2) + "\n");
}

std::filesystem::path Cache::derived_path(std::string_view kind, std::string_view key) const {
    // The key holds names and versions from indexes and locks ("packages/NAME_VERSION_ARCH").
    return m_root / "derived" / safe_component(kind, "cache kind") /
           safe_component(key, fmt::format("cache key for {}", kind));
}

} // namespace distill::core
