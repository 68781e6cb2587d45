#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <distill/core/base64.hpp>
#include <distill/core/error.hpp>
#include <distill/core/fs.hpp>
#include <distill/core/process.hpp>
#include <distill/core/text.hpp>
#include <distill/registry/credentials.hpp>

namespace distill::registry {
namespace {

// An auth file is a few entries; a large one is no auth file.
constexpr std::uint64_t k_max_auth_file = std::uint64_t{4} << 20U;

std::string env(const char* name) {
    const char* value = std::getenv(name);
    return value != nullptr ? value : "";
}

/// "https://host/v1/" -> "host", "host/team" stays.
std::string normalise_key(std::string key) {
    for (const std::string_view scheme : {"https://", "http://"}) {
        if (key.starts_with(scheme)) {
            key.erase(0, scheme.size());
        }
    }
    while (key.ends_with('/')) {
        key.pop_back();
    }
    if (key.ends_with("/v1") || key.ends_with("/v2")) {
        key.erase(key.size() - 3);
    }
    return key;
}

/// What a helper is told for a registry: docker keeps Docker Hub's under its old URL.
std::string helper_server(const std::string& registry) {
    return registry == "docker.io" ? "https://index.docker.io/v1/" : registry;
}

std::optional<Credentials> from_helper(const std::string& helper, const std::string& registry,
                                       CredentialSearch& search) {
    const auto program = "docker-credential-" + helper;
    const bool plain = !helper.empty() && std::all_of(helper.begin(), helper.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.';
    });
    if (!plain) {
        throw Error(
            fmt::format("credential helper `{}` is not a helper name", core::printable(helper)));
    }
    search.tried.push_back(program);
    if (!core::program_exists(program)) {
        throw Error(fmt::format("the credential helper {} for {} is not installed (not in PATH)",
                                program, registry));
    }
    const auto result =
        core::run_process({program, "get"}, helper_server(registry) + "\n", std::size_t{1} << 20U);
    if (result.exit_code != 0) {
        // The helpers' protocol: "credentials not found" means nothing stored, not a failure.
        if ((result.out + result.err).find("not found") != std::string::npos) {
            return std::nullopt;
        }
        throw Error(fmt::format("{} get failed (exit {}): {}", program, result.exit_code,
                                core::printable(result.err.substr(0, 300))));
    }
    nlohmann::json answer;
    try {
        answer = nlohmann::json::parse(result.out);
    } catch (const nlohmann::json::exception&) {
        throw Error(fmt::format("{} get did not answer with JSON", program));
    }
    if (!answer.is_object() || !answer.contains("Username") || !answer.contains("Secret") ||
        !answer["Username"].is_string() || !answer["Secret"].is_string()) {
        throw Error(fmt::format("{} get did not answer with Username and Secret", program));
    }
    Credentials credentials;
    credentials.username = answer["Username"].get<std::string>();
    credentials.secret = answer["Secret"].get<std::string>();
    // A helper gives an identity token as the user "<token>".
    credentials.identity_token = credentials.username == "<token>";
    credentials.source = program;
    return credentials;
}

std::optional<Credentials> from_auths(const nlohmann::json& auths, const std::string& registry,
                                      const std::string& repository,
                                      const std::filesystem::path& file) {
    if (!auths.is_object()) {
        throw Error(fmt::format("{}: `auths` is not an object", file.string()));
    }
    // podman lets a key name a namespace (`host/team`): the longest that contains the
    // repository wins.
    const std::string wanted = repository.empty() ? registry : registry + "/" + repository;
    const nlohmann::json* best = nullptr;
    std::size_t best_size = 0;
    for (const auto& [key, entry] : auths.items()) {
        const auto name = normalise_key(key);
        const bool matches = name == wanted || name == registry ||
                             (wanted.starts_with(name) && wanted.size() > name.size() &&
                              wanted[name.size()] == '/' && name.starts_with(registry + "/"));
        if (matches && name.size() > best_size) {
            best = &entry;
            best_size = name.size();
        }
    }
    if (best == nullptr) {
        return std::nullopt;
    }
    const auto& entry = *best;
    if (!entry.is_object()) {
        throw Error(fmt::format("{}: the entry for {} is not an object", file.string(), registry));
    }
    Credentials credentials;
    credentials.source = file.string();
    if (entry.contains("identitytoken") && entry["identitytoken"].is_string() &&
        !entry["identitytoken"].get<std::string>().empty()) {
        credentials.secret = entry["identitytoken"].get<std::string>();
        credentials.identity_token = true;
        return credentials;
    }
    if (entry.contains("auth") && entry["auth"].is_string()) {
        const auto text = entry["auth"].get<std::string>();
        if (text.empty()) {
            return std::nullopt; // docker writes empty entries beside a credsStore
        }
        const auto decoded = core::base64_decode(text);
        const auto colon = decoded ? decoded->find(':') : std::string::npos;
        if (!decoded || colon == std::string::npos) {
            throw Error(fmt::format("{}: the `auth` of {} is not base64 of user:password",
                                    file.string(), registry));
        }
        credentials.username = decoded->substr(0, colon);
        credentials.secret = decoded->substr(colon + 1);
        return credentials;
    }
    if (entry.contains("username") && entry.contains("password") && entry["username"].is_string() &&
        entry["password"].is_string()) {
        credentials.username = entry["username"].get<std::string>();
        credentials.secret = entry["password"].get<std::string>();
        return credentials;
    }
    return std::nullopt;
}

} // namespace

std::vector<std::filesystem::path>
credential_files(const std::optional<std::filesystem::path>& authfile) {
    if (authfile) {
        return {*authfile};
    }
    if (const auto file = env("REGISTRY_AUTH_FILE"); !file.empty()) {
        return {file};
    }
    std::vector<std::filesystem::path> files;
    if (const auto runtime = env("XDG_RUNTIME_DIR"); !runtime.empty()) {
        files.emplace_back(std::filesystem::path(runtime) / "containers" / "auth.json");
    }
    if (const auto docker = env("DOCKER_CONFIG"); !docker.empty()) {
        files.emplace_back(std::filesystem::path(docker) / "config.json");
    } else if (const auto home = env("HOME"); !home.empty()) {
        files.emplace_back(std::filesystem::path(home) / ".docker" / "config.json");
    }
    return files;
}

std::optional<Credentials> find_credentials(const std::string& registry,
                                            const std::string& repository,
                                            const std::vector<std::filesystem::path>& files,
                                            CredentialSearch& search) {
    for (const auto& file : files) {
        std::error_code error;
        if (!std::filesystem::is_regular_file(file, error)) {
            search.tried.push_back(fmt::format("{} (not there)", file.string()));
            continue;
        }
        if (std::filesystem::file_size(file, error) > k_max_auth_file) {
            throw Error(fmt::format("{}: larger than {} bytes; not an auth file", file.string(),
                                    k_max_auth_file));
        }
        nlohmann::json document;
        try {
            document = nlohmann::json::parse(core::read_file(file));
        } catch (const nlohmann::json::exception& e) {
            throw Error(fmt::format("{}: not valid JSON: {}", file.string(), e.what()));
        }
        if (!document.is_object()) {
            throw Error(fmt::format("{}: not a JSON object", file.string()));
        }
        search.tried.push_back(file.string());
        if (document.contains("credHelpers")) {
            const auto& helpers = document["credHelpers"];
            if (!helpers.is_object()) {
                throw Error(fmt::format("{}: `credHelpers` is not an object", file.string()));
            }
            for (const auto& [key, helper] : helpers.items()) {
                if (normalise_key(key) == registry && helper.is_string()) {
                    return from_helper(helper.get<std::string>(), registry, search);
                }
            }
        }
        if (document.contains("auths")) {
            if (auto found = from_auths(document["auths"], registry, repository, file)) {
                return found;
            }
        }
        if (document.contains("credsStore") && document["credsStore"].is_string() &&
            !document["credsStore"].get<std::string>().empty()) {
            if (auto found =
                    from_helper(document["credsStore"].get<std::string>(), registry, search)) {
                return found;
            }
        }
    }
    return std::nullopt;
}

} // namespace distill::registry
