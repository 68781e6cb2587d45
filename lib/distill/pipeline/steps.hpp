#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <distill/distro/distro.hpp>
#include <distill/image/oci.hpp>
#include <distill/lock/lock.hpp>
#include <distill/pipeline/pipeline.hpp>
#include <distill/pipeline/session.hpp>
#include <distill/sources/sources.hpp>
#include <distill/unpack/tree.hpp>

// The steps `plan`, `lock`, `build` and `verify` are made of, in the order a build takes them:
// resolve (Planner, resolve_packages) -> fetch -> unpack -> assemble -> layer -> write (build.cpp)
// -> write_lock. Each takes the records of one architecture's plan and fills in what it learns.
namespace distill::pipeline {

/// The resolve step of one architecture, from the indexes: the manifest's repositories are
/// made once (with the host's defaults), then each architecture's indexes are fetched,
/// verified and resolved.
class Planner {
public:
    /// `pinned` (not owned, may be null): the release files a lock names, see
    /// sources::Context::pinned.
    Planner(Session& session, const manifest::Loaded& loaded, const Settings& settings,
            const sources::PinnedReleases* pinned = nullptr);

    /// Fetches and verifies the indexes for `arch` and resolves the manifest's packages from
    /// them; a missing package that another component has gets a hint. The index's installer
    /// warnings are reported, or left to the caller.
    [[nodiscard]] ArchPlan plan(const std::string& arch, IndexWarnings warnings);

private:
    Session& m_session;
    const manifest::Loaded& m_loaded;
    const Settings& m_settings;
    const distro::Distro& m_distro;
    std::vector<sources::Repository> m_repositories;
    const sources::PinnedReleases* m_pinned;
};

/// The lock step's check of a lock that matches the manifest: a lock pins, it does not vouch.
/// Resolves the manifest again from the signed indexes of its sources (those the lock was
/// made from where the cache holds their release files, else the mirror's current ones) and
/// gives their plans when they hold exactly the lock's packages, versions, URLs, sizes and
/// SHA-256 digests. Anything else (a package added to or left out of the lock, another hash,
/// a URL outside the manifest's sources) is a VerificationError naming the package and
/// suggesting `distill lock --update`, also under --frozen.
[[nodiscard]] std::vector<resolve::Plan> vouch(Session& session, const manifest::Loaded& loaded,
                                               const Settings& settings, const lock::Lockfile& lock,
                                               const LockUse& use);

/// The fetch step: every package file of `plan` into the cache, verified against the SHA-256
/// and size the plan has, `session.transfers()` at a time; each record gets its `file`, and the
/// cache notes which file holds which package version (package::remember_file). A package
/// whose index gives no SHA-256 (only the distro's own checksum) is taken from the file the
/// cache noted for it, or downloaded and judged by distro.check_download(); its record gets
/// the SHA-256. A locked version the mirror no longer serves is an error that says so.
void fetch(Session& session, const distro::Distro& distro, resolve::Plan& plan,
           const LockUse& lock);

/// The unpack step: every fetched package read with the distro's reader (or taken from the
/// cache), `session.jobs()` at a time; each record gets its `contents`. The plan's warnings
/// become those the packages themselves give: installers whose content their maintainer
/// scripts would make (distill runs none), each reported.
void unpack(Session& session, const distro::Distro& distro, resolve::Plan& plan);

/// After the layer step found the content pack `damage` names damaged: drops the unpacked copy
/// of the package it belongs to and makes it again from its package file (hashed as it is
/// read), with a warning. Rethrows `damage` when no package of `plan` has that pack.
void remake_unpacked(Session& session, const distro::Distro& distro, resolve::Plan& plan,
                     const core::CacheDamageError& damage);

/// The newest build date of the unpacked packages of every plan: the epoch when the session
/// gives none.
[[nodiscard]] std::int64_t newest_build_date(const std::vector<resolve::Plan>& plans);

/// The assemble step: the image's tree of one architecture: the unpacked packages (in plan
/// order) under the manifest's path policy and the distro's merged /usr, then what their
/// maintainer scripts would have done (assemble::assemble), dated `epoch`.
[[nodiscard]] unpack::Tree assemble(Session& session, const distro::Distro& distro,
                                    const manifest::Manifest& manifest, const resolve::Plan& plan,
                                    std::int64_t epoch);

/// The layer step: the tree as one layer, its image config and image manifest, written into
/// `layout`; `for_sbom`: each file's SHA-1 too (image::Layer::sha1).
[[nodiscard]] ArchImage layer(Session& session, const manifest::Manifest& manifest,
                              const resolve::Plan& plan, const unpack::Tree& tree,
                              std::int64_t epoch, image::Compression compression,
                              image::LayoutWriter& layout, bool for_sbom);

/// The variants step: the image's variants (manifest::Manifest::variants) of one
/// architecture, written into `layout` beside `image` (ArchImage::variants): `root` is the
/// image's layer with a config that runs as uid 0; `debug` adds a layer holding the distro's
/// busybox under /busybox, with a link for each of its applets, and what else the plan's
/// packages of the variant ship; its PATH ends in /busybox, and it starts /busybox/sh when the
/// image has no entrypoint.
void variants(Session& session, const distro::Distro& distro, const manifest::Manifest& manifest,
              const resolve::Plan& plan, std::int64_t epoch, image::Compression compression,
              image::LayoutWriter& layout, ArchImage& image);

/// The SBOM step: the image's SPDX and CycloneDX documents (sbom::make) from its tree and
/// layer, each with an artifact manifest whose subject is the image manifest, written into
/// `layout` unless it is null; `image` gets them (ArchImage::sboms).
void sbom(Session& session, const distro::Distro& distro, const manifest::Manifest& manifest,
          const unpack::Tree& tree, std::int64_t epoch, ArchImage& image,
          image::LayoutWriter* layout);

} // namespace distill::pipeline
