#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <distill/manifest/manifest.hpp>
#include <distill/resolve/resolve.hpp>
#include <distill/sources/sources.hpp>

// The lockfile: the exact packages a manifest resolved to, with where they come from and who
// vouched for them, so that later builds take the same versions. A lock pins; it never vouches:
// pipeline::vouch() checks it against signed indexes before a build takes it.
namespace distill::lock {

/// A signed release file that vouched for the package indexes the lock was resolved from.
struct LockedSource {
    std::string release;              ///< the signed release file's URL
    std::string sha256;               ///< of the release file as verified
    std::vector<std::string> signers; ///< fingerprints of the keys whose signatures verified
    std::string keyring;              ///< the keyring they were checked against

    friend bool operator==(const LockedSource&, const LockedSource&) = default;
};

/// The packages of one architecture, sorted by name.
struct LockedArch {
    std::string arch;
    std::vector<resolve::PlannedPackage> packages; ///< `why` is not recorded
    std::vector<resolve::ExcludedPackage> excluded;
};

/// A lockfile as read or about to be written.
struct Lockfile {
    static constexpr int k_version = 1;
    std::string name; ///< the image name
    /// Whose packages these are; written only when it is not the default (debian), so that
    /// the locks written before the field existed read the same.
    manifest::Distro distro = manifest::Distro::debian;
    std::string manifest_digest;        ///< see manifest_digest()
    std::vector<std::string> manifests; ///< the manifest files digested, base first
    std::vector<LockedSource> sources;
    std::vector<LockedArch> archs;

    /// The architectures, in order.
    [[nodiscard]] std::vector<std::string> arch_names() const;
    /// The locked packages of `arch` as a plan (nullptr when the lock has no such arch).
    [[nodiscard]] const LockedArch* find(const std::string& arch) const;
};

/// The lock that belongs to a manifest: beside it, named after its stem (java17.yaml ->
/// java17.lock).
[[nodiscard]] std::filesystem::path path_for(const std::filesystem::path& manifest);

/// A digest of the manifest and every manifest it includes: their names and contents, in
/// include order. It changes when any of them changes; moving the files does not change it.
[[nodiscard]] std::string manifest_digest(const manifest::Manifest& manifest);

/// The lock for resolved plans and the indexes they were resolved from.
[[nodiscard]] Lockfile make(const manifest::Manifest& manifest,
                            const std::vector<resolve::Plan>& plans,
                            const std::vector<sources::Provenance>& provenance);

/// Reads a lockfile; a file that is not one is an Error naming it and what is wrong.
[[nodiscard]] Lockfile read(const std::filesystem::path& path);

/// The lockfile's text: JSON, two-space indented, keys sorted, packages sorted by name, one
/// field per line, so that a change of version is a one-line diff.
[[nodiscard]] std::string to_text(const Lockfile& lock);

/// Writes the lockfile atomically.
void write(const std::filesystem::path& path, const Lockfile& lock);

/// The plan a locked architecture stands for (packages in name order).
[[nodiscard]] resolve::Plan to_plan(const LockedArch& arch);

} // namespace distill::lock
