#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <distill/core/error.hpp>

namespace distill::manifest {

/// Where a value was written: file, 1-based line and column.
struct Location {
    std::filesystem::path file;
    int line = 0;
    int column = 0;

    /// "file:line:col" (or just "file" when the position is unknown).
    [[nodiscard]] std::string str() const;
};

/// One problem found in a manifest, in the compiler style: where, what, and how to fix it.
struct Diagnostic {
    Location where;
    std::string message;
    std::string hint; ///< may be empty

    /// "file:line:col: message" plus "\n  hint: ..." when there is a hint.
    [[nodiscard]] std::string str() const;
};

/// The manifest does not parse or does not validate. Carries every problem found, not just
/// the first; what() is all of them, one per line.
class ManifestError : public Error {
public:
    explicit ManifestError(std::vector<Diagnostic> diagnostics);
    [[nodiscard]] const std::vector<Diagnostic>& diagnostics() const noexcept {
        return m_diagnostics;
    }
    /// Each diagnostic names its file and line.
    [[nodiscard]] bool located() const noexcept override { return true; }

private:
    std::vector<Diagnostic> m_diagnostics;
};

/// The distribution whose packages make up the image.
enum class Distro { debian, alpine };

/// A string as written in the manifest, with its position.
struct Located {
    std::string value;
    Location where;
};

/// One package the image must contain: `name` or `name=version` (a pin). Alpine requests take
/// apk's whole dependency syntax, `name[@tag][OP version]` with OP one of `=`, `<`, `<=`, `>`,
/// `>=`, `~`, `>~`, `<~`, and may name what a package provides (`cmd:`, `so:`, `pc:`, a path
/// such as `/bin/sh`) instead of a package.
struct PackageRequest {
    std::string name;
    std::string version;  ///< empty: the best available version
    std::string relation; ///< how `version` binds: "=" (or empty) for a pin
    std::string tag;      ///< `name@tag`: chosen from the sources with that `tag` (Alpine)
    Location where;
};

/// A package repository.
struct Source {
    /// Optional. Base URL of the archive (http, https or file). Default: the distro's default
    /// mirror (for debian: the host's apt sources or DISTILL_DEBIAN_MIRROR; suites ending in
    /// -security go to the security mirror).
    std::string url;
    /// Optional. Default: [release, release-updates, release-security] (debian).
    std::vector<std::string> suites;
    /// Optional. Default: [main].
    std::vector<std::string> components;
    /// Optional. OpenPGP keyring (binary .gpg or armored .asc) that signs the archive; a
    /// relative path is relative to the manifest. Default: the distro's archive keyring
    /// installed on the host (/usr/share/keyrings/debian-archive-keyring.gpg).
    std::filesystem::path keyring;
    /// Optional, Alpine only. A pinned repository, as apk's `@tag URL`: its packages are chosen
    /// only for requests `name@tag` and for what those need that no untagged source has.
    std::string tag;
    Location where;
    /// Where each value was written, by YAML key (`url`, `keyring`), list entries as
    /// `suites.INDEX` and `components.INDEX`.
    std::map<std::string, Location> values;
    /// Set by with_defaults() when `suites` are the defaults made from the release rather than
    /// written: a suite the archive lacks is then the `release` value's fault.
    bool suites_from_release = false;
};

/// A user account in /etc/passwd (and its primary group in /etc/group).
struct Account {
    std::string name;                 ///< Required.
    std::uint32_t uid = 0;            ///< Required.
    std::optional<std::uint32_t> gid; ///< Optional. Default: uid.
    std::string home;  ///< Optional. Empty after parse(): /home/<name> (/root for uid 0).
    std::string shell; ///< Optional. Empty after parse(): /sbin/nologin.
    Location where;
    /// Where each value was written, by YAML key (`name`, `uid`, `gid`, `home`, `shell`).
    std::map<std::string, Location> values;
};

/// A local file copied into the image.
struct FileEntry {
    std::filesystem::path source; ///< Required. Relative to the manifest.
    std::string destination;      ///< Required. Absolute path in the image.
    unsigned mode = 0644;         ///< Optional. Default: 0644 (written as an octal string).
    std::uint32_t uid = 0;        ///< Optional. Default: 0.
    std::uint32_t gid = 0;        ///< Optional. Default: 0.
    Location where;
    /// Where each value was written, by YAML key (`src`, `dst`, `mode`, `uid`, `gid`).
    std::map<std::string, Location> values;
};

/// The OCI image configuration.
struct ImageConfig {
    std::vector<std::string> entrypoint;    ///< Optional. Default: none.
    std::vector<std::string> cmd;           ///< Optional. Default: none.
    std::map<std::string, std::string> env; ///< Optional. PATH defaults to the usual one.
    std::string workdir;                    ///< Optional. Empty after parse(): "/".
    std::string user; ///< Optional. Empty after parse(): "nonroot" (uid 65532).
    std::map<std::string, std::string> labels; ///< Optional.
    std::vector<std::string> ports;            ///< Optional. "8080" or "8080/tcp" or "53/udp".
    std::string stop_signal;                   ///< Optional. e.g. "SIGTERM".
    /// Where each value was written, by YAML key (`user`, `stop-signal`, ...); single entries
    /// as `env.NAME`, `labels.NAME` (the name's position) and `ports.INDEX`.
    std::map<std::string, Location> values;
};

/// Include and exclude globs applied to package contents on top of the default path policy.
struct PathRules {
    std::vector<Located> include; ///< Optional. Globs kept even if the policy drops them.
    std::vector<Located> exclude; ///< Optional. Globs dropped.
    /// Optional. Globs of files that keep their setuid and setgid bits; every other file loses
    /// them. Default: none.
    std::vector<Located> setuid;
};

/// Where the image needs more than its runtime profile allows (distill's runtime profile:
/// the runtime's default seccomp profile less the system calls a distroless service never
/// makes, a read-only root file system with a tmpfs /tmp, no capability, no new privileges).
struct RuntimeRules {
    /// Optional. System calls the profile denies that the image needs (`ptrace` for a
    /// profiler, say).
    std::vector<Located> allow_syscalls;
    /// Optional. Capabilities the image keeps (`NET_BIND_SERVICE`); every other one is dropped.
    std::vector<Located> capabilities;
    /// Optional. Directories the image writes besides /tmp, each a tmpfs; `/` keeps the whole
    /// root file system writable.
    std::vector<Located> writable_paths;
};

/// The images a build makes beside the manifest's own, from the same packages.
inline constexpr const char* k_variant_debug = "debug"; ///< busybox under /busybox
inline constexpr const char* k_variant_root = "root";   ///< runs as uid 0

/// A manifest after parse(): what the user wrote, with `include`d manifests merged in.
/// Host-dependent defaults (mirror, keyring, arch) are applied by the stages that use them.
struct Manifest {
    std::filesystem::path path;                  ///< the file this manifest was read from
    std::vector<std::filesystem::path> included; ///< every file merged in, this one last
    std::string name;                            ///< Required. The image name.
    Distro distro = Distro::debian;              ///< Required. debian | alpine.
    std::string release;                         ///< Required: the distro's release name.
    std::vector<Located> archs;                  ///< Optional. Default: the host's.
    std::vector<Source> sources;                 ///< Optional. Default: see Source.
    std::vector<PackageRequest> packages;        ///< Optional. Default: none.
    std::vector<Located> exclude;                ///< Optional. Names added to the exclusion policy.
    std::vector<Located> allow;    ///< Optional. Names taken out of the exclusion policy.
    PathRules paths;               ///< Optional.
    std::vector<Account> accounts; ///< Optional. Added to root, nobody and nonroot.
    ImageConfig config;            ///< Optional.
    /// Optional. Sibling images, each tagged TAG-VARIANT: `debug` (busybox's shell and tools
    /// under /busybox) and `root` (runs as uid 0). Default: none.
    std::vector<Located> variants;
    RuntimeRules runtime;         ///< Optional.
    std::vector<FileEntry> files; ///< Optional.
    /// Optional. PEM files of extra CA certificates, trusted in the CA bundle, the hashed
    /// directory /etc/ssl/certs and the Java truststore (and written under
    /// /usr/local/share/ca-certificates); paths as written are relative to the manifest
    /// (absolute after parse()).
    std::vector<Located> certificates;
    /// Where each top-level key was written (for messages about fields, not single values).
    std::map<std::string, Location> keys;
    /// Where each top-level scalar's value was written (`name`, `distro`, `release`,
    /// `include`).
    std::map<std::string, Location> values;
};

/// Reads a manifest and the manifests it includes. Checks YAML syntax, known keys and value
/// types; throws ManifestError with every problem found. The result holds what the files say:
/// optional settings left out stay empty (see with_defaults()). Hints that show a release name
/// show `example_release` (the distro is not known until the manifest is read: the caller
/// picks one, distro::load_manifest() the first implemented distro's).
[[nodiscard]] Manifest parse(const std::filesystem::path& path,
                             std::string_view example_release = "RELEASE");

/// What only the implementation of the manifest's distro can check or say (distro::Distro
/// implements it; distro::validate() hands it to validate()).
class DistroRules {
public:
    virtual ~DistroRules() = default;
    /// A release of the distro, for examples in hints.
    [[nodiscard]] virtual std::string_view example_release() const = 0;
    /// The diagnostic for a request with a version or a tag that the distro cannot take (a
    /// version that does not follow its syntax, a relation or a tag it has not), or nothing.
    [[nodiscard]] virtual std::optional<Diagnostic>
    check_request(const PackageRequest& request) const = 0;
};

/// Checks what parse() cannot: required fields, values in range, names that are valid
/// package names of the distro, no package both requested and excluded, and the like, and
/// with `rules` (may be null: a distro this distill does not implement yet) what only the
/// distro can check. Throws ManifestError with every problem found.
void validate(const Manifest& manifest, const DistroRules* rules);

/// "debian" or "alpine".
[[nodiscard]] std::string to_string(Distro distro);

/// The distro named `name` ("debian", "alpine"), or nothing.
[[nodiscard]] std::optional<Distro> distro_named(std::string_view name);

/// The PATH an image gets when the manifest's `config.env` does not set one.
inline constexpr const char* k_default_path =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The accounts every image has, in uid order: root (0), nonroot (65532), nobody (65534),
/// with their home directories and shells filled in.
[[nodiscard]] const std::vector<Account>& builtin_accounts();

/// The suites a source without `suites` uses: for debian [release, release-updates,
/// release-security], for alpine [release].
[[nodiscard]] std::vector<std::string> default_suites(Distro distro, const std::string& release);

/// The manifest with every default that does not depend on the host filled in: one source
/// when it names none, suites and components of each source, account gid/home/shell, config
/// workdir, user and PATH. The mirror and keyring stay as written; the distro picks the host's
/// when it makes the repositories (distro::Distro::repositories()), and the archs are the
/// host's when the manifest names none (Loaded).
[[nodiscard]] Manifest with_defaults(Manifest manifest);

/// A manifest ready for the pipeline, made once per run by distro::load_manifest(): parsed,
/// validated (the generic checks and its distro's) and with every default applied.
struct Loaded {
    std::filesystem::path path;     ///< the manifest file as the command line named it
    Manifest manifest;              ///< after with_defaults()
    std::vector<std::string> archs; ///< what to build for: asked for, else the manifest's, else
                                    ///< the host's
};

} // namespace distill::manifest
