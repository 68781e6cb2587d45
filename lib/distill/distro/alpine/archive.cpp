#include <array>
#include <ctime>

#include <fmt/format.h>

#include <distill/core/digest.hpp>
#include <distill/core/download.hpp>
#include <distill/core/fs.hpp>
#include <distill/distro/alpine/apkindex.hpp>
#include <distill/distro/alpine/archive.hpp>
#include <distill/distro/alpine/signature.hpp>

namespace distill::distro::alpine {
namespace {

using sources::Context;
using sources::FetchStats;
using sources::PackageIndex;
using sources::Repository;

// Alpine's largest index (community) is under 2 MB; a bigger one is no index, and would only
// be held whole in memory to be checked.
constexpr std::uint64_t k_max_index = std::uint64_t{64} << 20U;

manifest::ManifestError missing_index(const Repository& repository, const std::string& component,
                                      const std::string& arch, const std::string& url) {
    return manifest::ManifestError({manifest::Diagnostic{
        repository.suite_where,
        fmt::format("release `{}`: {} has no repository {} for {} ({}: not found, HTTP 404)",
                    repository.suite, repository.url, component, arch, url),
        "Alpine releases are named like `v3.19` (or `edge`), their repositories `main` and "
        "`community`"}});
}

PackageIndex verified(const Repository& repository, const std::string& component,
                      const std::string& arch, const std::string& url, const std::string& sha256,
                      const std::filesystem::path& path, const std::string& signer) {
    return PackageIndex{manifest::Distro::alpine,
                        repository_url(repository, component, arch),
                        repository.suite,
                        component,
                        arch,
                        url,
                        path,
                        sha256,
                        sources::Provenance{url, sha256, {signer}, repository.keyring},
                        repository.tag};
}

/// "2024-06-18 15:36:00 UTC".
std::string format_time(std::int64_t seconds) {
    const auto time = static_cast<std::time_t>(seconds);
    std::tm parts{};
    if (gmtime_r(&time, &parts) == nullptr) {
        return fmt::format("{} s after the epoch", seconds);
    }
    std::array<char, 32> text{};
    const auto length = std::strftime(text.data(), text.size(), "%Y-%m-%d %H:%M:%S UTC", &parts);
    return {text.data(), length};
}

std::string read_index(const std::filesystem::path& path, const std::string& url) {
    std::error_code error;
    if (const auto size = std::filesystem::file_size(path, error); !error && size > k_max_index) {
        throw VerificationError(fmt::format("{}: {} bytes; no Alpine index is larger than {} MiB",
                                            url, size, k_max_index >> 20U));
    }
    return core::read_file(path);
}

} // namespace

std::string repository_url(const Repository& repository, const std::string& component,
                           const std::string& arch) {
    return fmt::format("{}/{}/{}/{}", repository.url, repository.suite, component, arch);
}

PackageIndex fetch_index(const Repository& repository, const std::string& component,
                         const std::string& arch, Context& context, FetchStats& stats) {
    const std::string url = repository_url(repository, component, arch) + "/APKINDEX.tar.gz";
    const auto keys = load_keyring(repository.keyring);

    // A build from a lock reads the copy the lock names, when the cache has it: checked against
    // its name (the cache is outside data too) and its signature against the manifest's keys.
    if (const auto pinned = sources::pinned_copy(context, url)) {
        const auto signer = verify_signed_file(read_index(pinned->path, url), keys, url);
        ++stats.releases_pinned;
        return verified(repository, component, arch, url, pinned->sha256, pinned->path,
                        signer.key_name);
    }

    const auto previous = context.cache.url_record(url);
    core::BlobWriter writer(context.cache);
    core::HttpRequest request{url, {}, {}};
    if (previous && context.cache.has_blob(previous->sha256)) {
        request.etag = previous->etag;
        request.last_modified = previous->last_modified;
    }
    request.max_bytes = k_max_index;
    core::HttpResponse response;
    try {
        response = context.http.get(request, writer.sink());
    } catch (const core::NetworkError& error) {
        if (error.http_status() == 404) {
            throw missing_index(repository, component, arch, url);
        }
        throw;
    }
    ++stats.releases_checked;
    const bool not_modified = response.status == 304 && request.etag.has_value();
    const std::string sha256 = not_modified ? previous->sha256 : writer.sha256();
    const auto path = not_modified ? context.cache.blob_path(sha256) : writer.path();
    // Verified every time, also from the cache: the keys may have changed.
    const auto bytes = read_index(path, url);
    if (not_modified && core::sha256_hex(bytes) != sha256) {
        throw core::CacheDamageError(
            fmt::format("{}: the cached copy {} is damaged", url, path.string()), path);
    }
    const auto signer = verify_signed_file(bytes, keys, url);
    if (!not_modified && previous && previous->sha256 != sha256 &&
        context.cache.has_blob(previous->sha256)) {
        // A mirror must not roll a client back to an older (still validly signed) index. The
        // time the index was made is in its signed tar header.
        const auto old_bytes = read_index(context.cache.blob_path(previous->sha256), url);
        if (core::sha256_hex(old_bytes) == previous->sha256) {
            (void)verify_signed_file(old_bytes, keys, url);
            const auto made = read_index_archive(bytes, url).made;
            const auto before = read_index_archive(old_bytes, url).made;
            if (made < before) {
                throw VerificationError(fmt::format(
                    "{}: made {}, older than the {} copy verified before: refusing a rollback", url,
                    format_time(made), format_time(before)));
            }
        }
    }
    if (not_modified) {
        ++stats.releases_not_modified;
        ++stats.indexes_cached;
    } else {
        ++stats.indexes_downloaded;
        stats.bytes_downloaded += response.bytes;
        writer.commit(sha256);
        context.cache.store_url_record(
            core::UrlRecord{url, response.etag, response.last_modified, sha256});
    }
    context.reporter.debug(fmt::format("{}: {} (signed by {}, {})", url,
                                       not_modified ? "not modified" : "verified", signer.key_name,
                                       signer.algorithm));
    return verified(repository, component, arch, url, sha256, context.cache.blob_path(sha256),
                    signer.key_name);
}

} // namespace distill::distro::alpine
