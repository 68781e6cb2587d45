#include <algorithm>
#include <cctype>

#include <curl/curl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <distill/core/base64.hpp>
#include <distill/core/error.hpp>
#include <distill/core/text.hpp>
#include <distill/registry/auth.hpp>

namespace distill::registry {
namespace {

// A token answer is a small JSON document.
constexpr std::uint64_t k_max_token_answer = std::uint64_t{1} << 20U;

bool token_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           std::string_view("!#$%&'*+-.^_`|~/:").find(c) != std::string_view::npos;
}

std::string escape(const std::string& value) {
    CURL* curl = curl_easy_init();
    if (curl == nullptr) {
        throw Error("cannot initialise libcurl");
    }
    char* escaped = curl_easy_escape(curl, value.c_str(), static_cast<int>(value.size()));
    std::string out = escaped != nullptr ? escaped : "";
    curl_free(escaped);
    curl_easy_cleanup(curl);
    return out;
}

} // namespace

std::optional<Challenge> parse_challenge(std::string_view header) {
    std::size_t pos = 0;
    const auto skip_space = [&] {
        while (pos < header.size() && (header[pos] == ' ' || header[pos] == '\t')) {
            ++pos;
        }
    };
    skip_space();
    const auto scheme_start = pos;
    while (pos < header.size() && token_char(header[pos])) {
        ++pos;
    }
    if (pos == scheme_start) {
        return std::nullopt;
    }
    Challenge challenge;
    challenge.scheme = core::lowercase(header.substr(scheme_start, pos - scheme_start));
    // At most a few parameters; a header is bounded by the HTTP engine.
    while (pos < header.size()) {
        skip_space();
        const auto name_start = pos;
        while (pos < header.size() && token_char(header[pos]) && header[pos] != '=') {
            ++pos;
        }
        if (pos == name_start) {
            if (pos < header.size() && header[pos] == ',') {
                ++pos;
                continue;
            }
            break;
        }
        const auto name = core::lowercase(header.substr(name_start, pos - name_start));
        skip_space();
        if (pos >= header.size() || header[pos] != '=') {
            return std::nullopt;
        }
        ++pos;
        skip_space();
        std::string value;
        if (pos < header.size() && header[pos] == '"') {
            ++pos;
            bool closed = false;
            while (pos < header.size()) {
                const char c = header[pos++];
                if (c == '\\' && pos < header.size()) {
                    value += header[pos++];
                } else if (c == '"') {
                    closed = true;
                    break;
                } else {
                    value += c;
                }
            }
            if (!closed) {
                return std::nullopt;
            }
        } else {
            const auto value_start = pos;
            while (pos < header.size() && token_char(header[pos])) {
                ++pos;
            }
            value = std::string(header.substr(value_start, pos - value_start));
        }
        challenge.params[name] = value;
        skip_space();
        if (pos < header.size() && header[pos] == ',') {
            ++pos;
        }
    }
    return challenge;
}

RegistryAuth::RegistryAuth(std::string registry, std::optional<Credentials> credentials,
                           core::HttpOptions token_options)
    : m_registry(std::move(registry))
    , m_credentials(std::move(credentials))
    , m_token_options(std::move(token_options)) {
    m_token_options.authenticator = nullptr;
}

void RegistryAuth::want_scope(const std::string& scope) {
    const std::lock_guard lock(m_mutex);
    m_scopes.insert(scope);
}

void RegistryAuth::set_origin(std::string origin) {
    const std::lock_guard lock(m_mutex);
    m_origin = std::move(origin);
}

std::optional<std::string> RegistryAuth::authorization(const core::HttpRequest& request) {
    const std::lock_guard lock(m_mutex);
    if (m_origin.empty() || !request.url.starts_with(m_origin)) {
        return std::nullopt;
    }
    if (!m_token.empty()) {
        return "Bearer " + m_token;
    }
    if (m_basic && m_credentials && !m_credentials->identity_token) {
        return "Basic " +
               core::base64_encode(m_credentials->username + ":" + m_credentials->secret);
    }
    return std::nullopt;
}

bool RegistryAuth::challenge(const core::HttpRequest& request, std::string_view www_authenticate) {
    {
        const std::lock_guard lock(m_mutex);
        if (m_origin.empty() || !request.url.starts_with(m_origin)) {
            return false;
        }
    }
    const auto challenge = parse_challenge(www_authenticate);
    if (!challenge) {
        throw core::NetworkError(fmt::format("{}: the registry's challenge `{}` is not one",
                                             request.url,
                                             core::printable(www_authenticate.substr(0, 200))),
                                 401);
    }
    if (challenge->scheme == "basic") {
        const std::lock_guard lock(m_mutex);
        if (!m_credentials || m_credentials->identity_token || m_basic) {
            return false; // none to give, or they were refused
        }
        m_basic = true;
        return true;
    }
    if (challenge->scheme != "bearer") {
        return false;
    }
    const auto realm = challenge->params.find("realm");
    if (realm == challenge->params.end() ||
        !(realm->second.starts_with("https://") || realm->second.starts_with("http://"))) {
        throw core::NetworkError(
            fmt::format("{}: the registry's bearer challenge names no http(s) realm", request.url),
            401);
    }
    std::set<std::string> scopes;
    {
        const std::lock_guard lock(m_mutex);
        scopes = m_scopes;
    }
    if (const auto scope = challenge->params.find("scope"); scope != challenge->params.end()) {
        // Several scopes may be given separated by spaces.
        std::size_t start = 0;
        const auto& text = scope->second;
        while (start < text.size()) {
            auto end = text.find(' ', start);
            end = end == std::string::npos ? text.size() : end;
            if (end > start) {
                scopes.insert(text.substr(start, end - start));
            }
            start = end + 1;
        }
    }
    std::string service;
    if (const auto found = challenge->params.find("service"); found != challenge->params.end()) {
        service = found->second;
    }

    core::HttpRequest token_request;
    std::string body;
    if (m_credentials && m_credentials->identity_token) {
        // OAuth2: the identity token is a refresh token, posted to the realm.
        body = fmt::format("grant_type=refresh_token&client_id=distill&refresh_token={}",
                           escape(m_credentials->secret));
        if (!service.empty()) {
            body += "&service=" + escape(service);
        }
        for (const auto& scope : scopes) {
            body += "&scope=" + escape(scope);
        }
        token_request.url = realm->second;
        token_request.method = core::HttpMethod::post;
        token_request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
        token_request.body = body;
    } else {
        std::string url = realm->second;
        char separator = url.find('?') == std::string::npos ? '?' : '&';
        if (!service.empty()) {
            url += fmt::format("{}service={}", separator, escape(service));
            separator = '&';
        }
        for (const auto& scope : scopes) {
            url += fmt::format("{}scope={}", separator, escape(scope));
            separator = '&';
        }
        token_request.url = url;
        if (m_credentials) {
            token_request.headers.emplace_back(
                "Authorization", "Basic " + core::base64_encode(m_credentials->username + ":" +
                                                                m_credentials->secret));
        }
    }
    token_request.max_bytes = k_max_token_answer;
    std::string answer;
    core::HttpClient client(m_token_options);
    try {
        const core::BodySink sink{[&] { answer.clear(); },
                                  [&](std::span<const std::byte> data) {
                                      answer.append(reinterpret_cast<const char*>(data.data()),
                                                    data.size());
                                  }};
        (void)client.send(token_request, sink);
    } catch (const core::NetworkError& error) {
        throw core::NetworkError(fmt::format("{}: the token server {} refused {} ({}): {}",
                                             m_registry, realm->second, described(),
                                             fmt::join(scopes, " "), error.what()),
                                 error.http_status());
    }
    nlohmann::json document;
    try {
        document = nlohmann::json::parse(answer);
    } catch (const nlohmann::json::exception&) {
        throw core::NetworkError(fmt::format("{}: the token server {} did not answer with JSON",
                                             m_registry, realm->second),
                                 0);
    }
    std::string token;
    for (const char* key : {"token", "access_token"}) {
        if (document.is_object() && document.contains(key) && document[key].is_string() &&
            !document[key].get<std::string>().empty()) {
            token = document[key].get<std::string>();
            break;
        }
    }
    const bool plain =
        !token.empty() && token.size() < (std::size_t{64} << 10U) &&
        std::all_of(token.begin(), token.end(), [](char c) { return c > ' ' && c < 0x7f; });
    if (!plain) {
        throw core::NetworkError(
            fmt::format("{}: the token server {} gave no usable token", m_registry, realm->second),
            0);
    }
    const std::lock_guard lock(m_mutex);
    m_token = std::move(token);
    ++m_tokens;
    return true;
}

std::string RegistryAuth::described() const {
    if (!m_credentials) {
        return "no credentials (anonymous)";
    }
    if (m_credentials->identity_token) {
        return fmt::format("the identity token from {}", m_credentials->source);
    }
    return fmt::format("the credentials of user `{}` from {}",
                       core::printable(m_credentials->username), m_credentials->source);
}

int RegistryAuth::tokens_fetched() const {
    const std::lock_guard lock(m_mutex);
    return m_tokens;
}

} // namespace distill::registry
