#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

// Registry credentials from the files users already have: containers-auth.json(5) (podman,
// skopeo, buildah) and docker's config.json, with their credential helpers. A secret never
// appears in a message; where credentials came from does.
namespace distill::registry {

/// Credentials for one registry.
struct Credentials {
    std::string username;
    std::string secret; ///< a password, or an identity (refresh) token when `identity_token`
    bool identity_token = false;
    std::string source; ///< where they came from, for messages: a file, or a helper
};

/// The files searched, in order: `authfile` (--authfile) or $REGISTRY_AUTH_FILE when set (and
/// then only it), else ${XDG_RUNTIME_DIR}/containers/auth.json, then $DOCKER_CONFIG/config.json
/// or ~/.docker/config.json. Files that do not exist are kept in the list (and skipped).
[[nodiscard]] std::vector<std::filesystem::path>
credential_files(const std::optional<std::filesystem::path>& authfile = std::nullopt);

/// What find_credentials() looked at, for a message when the registry refuses.
struct CredentialSearch {
    std::vector<std::string> tried; ///< "auth.json: no entry for HOST", "docker-credential-x"
};

/// The credentials for `registry` (`host[:port]`) and `repository` (`team/app`), from the
/// first of `files` that has them: its `credHelpers` entry for the registry (the helper
/// `docker-credential-NAME get` is run), else its `auths` entry (the longest key matching
/// `registry/repository`, `https://` and a `/v1/` path ignored: `auth` is base64 of
/// `user:password`, or `identitytoken`), else its `credsStore` helper. nullopt when none has
/// any: the registry is then asked anonymously. Throws an Error naming the file for a file
/// that is not JSON of that form, or a helper that fails other than with "not found".
[[nodiscard]] std::optional<Credentials>
find_credentials(const std::string& registry, const std::string& repository,
                 const std::vector<std::filesystem::path>& files, CredentialSearch& search);

} // namespace distill::registry
