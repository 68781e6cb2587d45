#include <distill/distro/debian/pool_loader.hpp>

extern "C" {
#include <solv/pool.h>
#include <solv/repo.h>
#include <solv/repo_deb.h>
#include <solv/repodata.h>
}

#include <fmt/format.h>

// libsolv's FOR_REPO_SOLVABLES macro mixes int and unsigned and uses C casts; it is checked
// code we cannot change, so its warnings are off in this file.
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wold-style-cast"

#include <distill/core/cancel.hpp>
#include <distill/core/error.hpp>
#include <distill/distro/debian/packages_scan.hpp>

namespace distill::distro::debian {

void PoolLoader::setup(s_Pool* pool) const {
    if (pool_setdisttype(pool, DISTTYPE_DEB) < 0) {
        throw Error("this libsolv was built without Debian support");
    }
}

void PoolLoader::load(s_Pool* pool, s_Repo* repo, const std::filesystem::path& path,
                      const std::string& served_as) const {
    // libsolv's Packages parser skips the Size field, which distill needs for downloads and
    // locks; a scanner reads the same decompressed bytes on their way into libsolv.
    const std::string name = served_as.empty() ? path.string() : served_as;
    auto source = resolve::solv::open_decompressing(path, name);
    PackagesScan::Limits limits;
    std::error_code ignored;
    limits.compressed = std::filesystem::file_size(path, ignored);
    if (ignored) {
        limits.compressed = 0;
    }
    PackagesScan scan(source.get(), name, limits);
    FILE* tee = scan.file();
    const int parsed = repo_add_debpackages(repo, tee, 0);
    std::fclose(tee);
    if (scan.cancelled()) {
        core::throw_if_cancelled();
    }
    if (!scan.error().empty()) {
        // The index is signed, but its fields become cache file names and database paths, and
        // its size drives memory and time: one that breaks its grammar or a bound is refused
        // before anything uses it.
        throw VerificationError(scan.error());
    }
    if (scan.binary()) {
        throw Error(fmt::format("{}: not a Packages index (binary data; compressed unlike its "
                                "name {} says?)",
                                path.string(), served_as));
    }
    if (scan.failed()) {
        throw Error(fmt::format("{}: read error while parsing the package index", path.string()));
    }
    if (parsed != 0) {
        throw Error(fmt::format("{}: cannot parse the package index: {}", path.string(),
                                pool_errstr(pool)));
    }

    Repodata* data = repo_add_repodata(repo, REPO_REUSE_REPODATA | REPO_EXTEND_SOLVABLES);
    const Id rank_key = pool_str2id(pool, resolve::solv::k_rank_key, 1);
    Id p = 0;
    Solvable* s = nullptr;
    FOR_REPO_SOLVABLES(repo, p, s) {
        const auto noted = scan.noted(pool_id2str(pool, s->name), pool_id2str(pool, s->evr),
                                      pool_id2str(pool, s->arch));
        if (!noted) {
            continue;
        }
        if (noted->size) {
            repodata_set_num(data, p, SOLVABLE_DOWNLOADSIZE, *noted->size);
        }
        if (noted->priority > 0) {
            repodata_set_num(data, p, rank_key, static_cast<unsigned long long>(noted->priority));
        }
    }
    repodata_internalize(data);
}

std::string_view PoolLoader::cache_format() const {
    // Bumped whenever what load() stores changes: "deb-3" keeps the Priority under the rank key,
    // "deb-4" is only ever made from an index whose fields passed PackagesScan's checks.
    return "deb-4";
}

} // namespace distill::distro::debian
