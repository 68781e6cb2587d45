#include <algorithm>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <distill/core/digest.hpp>
#include <distill/core/download.hpp>
#include <distill/distro/debian/archive.hpp>
#include <distill/distro/debian/control.hpp>
#include <distill/distro/debian/openpgp.hpp>
#include <distill/distro/debian/releases.hpp>

namespace distill::distro::debian {
namespace {

using sources::Context;
using sources::FetchStats;
using sources::PackageIndex;
using sources::Provenance;
using sources::Repository;
using sources::SuiteOrigin;
using sources::UnusedIndex;

// apt's tolerance for clocks that disagree a little.
constexpr auto k_clock_skew = std::chrono::minutes(10);

std::string dists_url(const Repository& repository) {
    return fmt::format("{}/dists/{}", repository.url, repository.suite);
}

/// Checks that the release is the one asked for: a valid signature alone does not prove it.
void check_suite(const Release& release, const Repository& repository, const std::string& url) {
    if (!release.names(repository.suite)) {
        throw VerificationError(fmt::format(R"({}: is for suite "{}" (codename "{}"), not "{}")",
                                            url, release.suite, release.codename,
                                            repository.suite));
    }
}

/// Checks what a valid signature alone does not prove: that the release is the one asked
/// for, and current.
void check_release(const Release& release, const Repository& repository, const std::string& url,
                   std::chrono::sys_seconds now) {
    check_suite(release, repository, url);
    if (release.valid_until && *release.valid_until < now) {
        throw VerificationError(fmt::format("{}: expired: valid until {}, now {}", url,
                                            format_release_date(*release.valid_until),
                                            format_release_date(now)));
    }
    if (release.date && *release.date > now + k_clock_skew) {
        throw VerificationError(fmt::format("{}: dated {}, in the future (now {}): is the clock "
                                            "right?",
                                            url, format_release_date(*release.date),
                                            format_release_date(now)));
    }
}

/// The component as the archive keeps its files: Debian's security archive lists
/// "updates/main" yet keeps the files under "main/".
std::string component_name(const std::string& listed) {
    const auto slash = listed.rfind('/');
    return slash == std::string::npos ? listed : listed.substr(slash + 1);
}

/// The Packages indexes of one component for `arch` (plus binary-all where the archive keeps
/// one) as the verified release lists them: what each must hash to and where to get it.
std::vector<std::pair<PackageIndex, core::ExpectedBlob>>
locate_indexes(const Repository& repository, const VerifiedRelease& verified,
               const std::string& component, const std::string& arch) {
    const auto& release = verified.release;
    std::vector<std::string> archs{arch};
    const auto& listed = release.architectures;
    if (!release.all_in_arch_indexes &&
        std::find(listed.begin(), listed.end(), "all") != listed.end()) {
        archs.emplace_back("all");
    }
    std::vector<std::pair<PackageIndex, core::ExpectedBlob>> located;
    for (const auto& index_arch : archs) {
        const std::string dir = fmt::format("{}/binary-{}", component, index_arch);
        const ReleaseEntry* entry = nullptr;
        for (const char* name : {"Packages.xz", "Packages.gz", "Packages"}) {
            entry = release.find(dir + "/" + name);
            if (entry != nullptr) {
                break;
            }
        }
        if (entry == nullptr) {
            if (index_arch == "all") {
                continue; // an archive may list "all" yet keep no separate index
            }
            throw VerificationError(
                fmt::format("{}: lists no Packages index for {}", verified.url, dir));
        }
        const std::string canonical = dists_url(repository) + "/" + entry->path;
        core::ExpectedBlob blob{{}, entry->sha256, entry->size};
        if (release.acquire_by_hash) {
            // by-hash names cannot change under us while the mirror updates.
            blob.urls.push_back(
                fmt::format("{}/{}/by-hash/SHA256/{}", dists_url(repository), dir, entry->sha256));
        }
        blob.urls.push_back(canonical);
        located.emplace_back(PackageIndex{repository.distro,
                                          repository.url,
                                          repository.suite,
                                          component,
                                          index_arch,
                                          canonical,
                                          {},
                                          entry->sha256,
                                          Provenance{verified.url, verified.sha256,
                                                     verified.signers, repository.keyring},
                                          repository.tag},
                             std::move(blob));
    }
    return located;
}

/// The release file a lock names, when the cache holds it: checked against its name (the
/// cache is outside data too), its signature against the manifest's keyring (not the one the
/// lock names) and its suite. Its age is not judged: a lock pins a moment on purpose, and the
/// signature still says who vouched for it. nullopt when the cache does not hold it.
std::optional<VerifiedRelease> pinned_release(const Repository& repository, const std::string& url,
                                              Context& context, FetchStats& stats) {
    const auto pinned = sources::pinned_copy(context, url);
    if (!pinned) {
        return std::nullopt;
    }
    auto signed_text = verify_clearsigned(pinned->path, repository.keyring, url);
    auto release = parse_release(signed_text.text, url);
    check_suite(release, repository, url);
    ++stats.releases_pinned;
    context.reporter.debug(fmt::format("{}: the copy the lock names, {} (signed by {})", url,
                                       pinned->sha256, fmt::join(signed_text.signers, ", ")));
    return VerifiedRelease{std::move(release), url, pinned->sha256, std::move(signed_text.signers)};
}

} // namespace

VerifiedRelease fetch_release(const Repository& repository, Context& context, FetchStats& stats) {
    const std::string url = dists_url(repository) + "/InRelease";
    if (auto pinned = pinned_release(repository, url, context, stats)) {
        return std::move(*pinned);
    }
    const auto previous = context.cache.url_record(url);

    core::BlobWriter writer(context.cache);
    core::HttpRequest request{url, {}, {}};
    if (previous) {
        request.etag = previous->etag;
        request.last_modified = previous->last_modified;
    }
    // apt reads at most 10 MB of a release file; a bigger one is no release file, and would
    // only be held whole in memory to be checked.
    request.max_bytes = std::uint64_t{10} << 20U;
    core::HttpResponse response;
    try {
        response = context.http.get(request, writer.sink());
    } catch (const core::NetworkError& error) {
        if (error.http_status() == 404) {
            // The mirror answered, and has no such suite: the manifest names one that does
            // not exist (a typo, most likely), which the user fixes there.
            throw missing_suite_error(repository, url, context.http);
        }
        throw;
    }
    ++stats.releases_checked;

    const bool not_modified = response.status == 304 && previous.has_value();
    const std::string sha256 = not_modified ? previous->sha256 : writer.sha256();
    const auto path = not_modified ? context.cache.blob_path(sha256) : writer.path();
    if (not_modified) {
        ++stats.releases_not_modified;
    } else {
        stats.bytes_downloaded += response.bytes;
    }

    // Verified every time, also from the cache: the keyring may have changed, and validity is
    // judged against today.
    auto signed_text = verify_clearsigned(path, repository.keyring, url);
    auto release = parse_release(signed_text.text, url);
    check_release(release, repository, url, context.now);

    if (!not_modified) {
        if (previous && previous->sha256 != sha256) {
            // A mirror must not roll a client back to an older (still validly signed) release.
            const auto old =
                parse_release(verify_clearsigned(context.cache.blob_path(previous->sha256),
                                                 repository.keyring, url)
                                  .text,
                              url);
            if (old.date && release.date && *release.date < *old.date) {
                throw VerificationError(fmt::format(
                    "{}: dated {}, older than the {} copy verified before: refusing a rollback",
                    url, format_release_date(*release.date), format_release_date(*old.date)));
            }
        }
        writer.commit(sha256);
        context.cache.store_url_record(
            core::UrlRecord{url, response.etag, response.last_modified, sha256});
    }
    context.reporter.debug(fmt::format("{}: {} (signed by {})", url,
                                       not_modified ? "not modified" : "verified",
                                       fmt::join(signed_text.signers, ", ")));
    return VerifiedRelease{std::move(release), url, sha256, std::move(signed_text.signers)};
}

std::vector<PackageIndex> fetch_package_indexes(const Repository& repository,
                                                const VerifiedRelease& verified,
                                                const std::string& arch, Context& context,
                                                FetchStats& stats) {
    const auto& release = verified.release;
    const auto& listed = release.architectures;
    if (!listed.empty() && std::find(listed.begin(), listed.end(), arch) == listed.end()) {
        throw Error(fmt::format("{}: suite {} has no architecture {} (it has: {})", verified.url,
                                repository.suite, arch, fmt::join(listed, " ")));
    }

    std::vector<PackageIndex> indexes;
    for (const auto& component : repository.components) {
        const auto& components = release.components;
        const bool has_component =
            std::any_of(components.begin(), components.end(),
                        [&](const std::string& c) { return component_name(c) == component; });
        if (!components.empty() && !has_component) {
            throw Error(fmt::format("{}: suite {} has no component {} (it has: {})", verified.url,
                                    repository.suite, component, fmt::join(components, " ")));
        }
        for (auto& [index, blob] : locate_indexes(repository, verified, component, arch)) {
            const auto fetched = core::fetch_blob(context.http, context.cache, blob);
            if (fetched.downloaded) {
                ++stats.indexes_downloaded;
                stats.bytes_downloaded += fetched.bytes;
            } else {
                ++stats.indexes_cached;
            }
            index.path = fetched.path;
            indexes.push_back(std::move(index));
        }
    }
    return indexes;
}

std::vector<UnusedIndex> unused_indexes(const Repository& repository,
                                        const VerifiedRelease& verified, const std::string& arch) {
    std::vector<UnusedIndex> unused;
    for (const auto& listed : verified.release.components) {
        const auto component = component_name(listed);
        const auto& used = repository.components;
        if (std::find(used.begin(), used.end(), component) != used.end()) {
            continue;
        }
        try {
            for (auto& [index, blob] : locate_indexes(repository, verified, component, arch)) {
                unused.push_back(UnusedIndex{std::move(index), std::move(blob), repository});
            }
        } catch (const VerificationError&) {
            // A component the manifest does not use may lack an index for this architecture;
            // it only matters to explain a missing package, so it is simply not looked into.
        }
    }
    return unused;
}

} // namespace distill::distro::debian
