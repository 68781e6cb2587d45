#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <distill/core/http.hpp>
#include <distill/registry/credentials.hpp>

namespace distill::registry {

/// One parameterised challenge of a WWW-Authenticate header: `Bearer realm="...",service=...`.
struct Challenge {
    std::string scheme;                        ///< lowercase: "basic", "bearer"
    std::map<std::string, std::string> params; ///< names lowercase, values unquoted
};

/// Parses a WWW-Authenticate value (RFC 7235: a scheme and comma-separated name=value pairs,
/// values as tokens or quoted strings). nullopt when it is not one.
[[nodiscard]] std::optional<Challenge> parse_challenge(std::string_view header);

/// Credentials for a registry's requests: anonymous, HTTP basic, or bearer tokens from the
/// token endpoint a challenge names (the distribution spec's token flow: a GET of the realm
/// with `service` and each `scope`, with basic credentials when there are any, or a POST with
/// the identity token). A token is kept for the scopes it was given for, and asked for again
/// when the registry refuses it (it expired mid-push).
class RegistryAuth final : public core::Authenticator {
public:
    RegistryAuth(std::string registry, std::optional<Credentials> credentials,
                 core::HttpOptions token_options);

    /// A scope every token is asked for too ("repository:team/app:pull,push").
    void want_scope(const std::string& scope);
    /// Credentials go only to URLs under this origin ("https://host:port/"): an upload location
    /// or a redirect elsewhere (a storage backend) gets none.
    void set_origin(std::string origin);

    std::optional<std::string> authorization(const core::HttpRequest& request) override;
    bool challenge(const core::HttpRequest& request, std::string_view www_authenticate) override;

    /// Where the credentials came from, or "no credentials": for messages on 401 and 403.
    [[nodiscard]] std::string described() const;
    /// How many tokens were fetched (tests: a refresh mid-push).
    [[nodiscard]] int tokens_fetched() const;

private:
    std::string m_registry;
    std::optional<Credentials> m_credentials;
    core::HttpOptions m_token_options;
    mutable std::mutex m_mutex;
    std::set<std::string> m_scopes;
    std::string m_origin;
    bool m_basic = false;
    std::string m_token;
    int m_tokens = 0;
};

} // namespace distill::registry
