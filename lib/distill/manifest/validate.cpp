#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <distill/core/text.hpp>
#include <distill/distro/arch.hpp>
#include <distill/distro/facts.hpp>
#include <distill/manifest/manifest.hpp>
#include <distill/runtime/profile.hpp>
#include <distill/runtime/syscalls.hpp>

namespace distill::manifest {
namespace {

namespace fs = std::filesystem;

// Linux signal names without the SIG prefix; the real-time ones are left to numbers.
constexpr std::array<std::string_view, 32> k_signals{
    "HUP",  "INT",  "QUIT", "ILL",  "TRAP",   "ABRT",   "IOT",   "BUS",  "FPE",  "KILL", "USR1",
    "SEGV", "USR2", "PIPE", "ALRM", "TERM",   "STKFLT", "CHLD",  "CONT", "STOP", "TSTP", "TTIN",
    "TTOU", "URG",  "XCPU", "XFSZ", "VTALRM", "PROF",   "WINCH", "IO",   "POLL", "PWR"};
constexpr int k_max_signal = 64;

constexpr std::array<std::string_view, 3> k_url_schemes{"http://", "https://", "file://"};

bool is_lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_alnum(char c) {
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}
bool has_space(std::string_view text) {
    return std::any_of(text.begin(), text.end(),
                       [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; });
}
using core::lowercase;

/// A whole decimal number that fits `T`, nothing before or after it.
template <typename T>
std::optional<T> number(std::string_view text) {
    T value{};
    const char* const end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data(), end, value);
    if (text.empty() || error != std::errc{} || stop != end) {
        return std::nullopt;
    }
    return value;
}

/// Lowercase letters and digits plus `.`, `_` and `-`, starting with a letter or digit.
bool valid_image_name(std::string_view name) {
    return !name.empty() && is_lower_alnum(name.front()) &&
           std::all_of(name.begin(), name.end(), [](char c) {
               return is_lower_alnum(c) || c == '.' || c == '_' || c == '-';
           });
}

/// `[a-z_][a-z0-9_-]*`, at most 32 characters (the useradd limit).
bool valid_account_name(std::string_view name) {
    return !name.empty() && name.size() <= 32 &&
           ((name.front() >= 'a' && name.front() <= 'z') || name.front() == '_') &&
           std::all_of(name.begin(), name.end(),
                       [](char c) { return is_lower_alnum(c) || c == '_' || c == '-'; });
}

bool valid_env_name(std::string_view name) {
    const auto word = [](char c) {
        return is_alnum(c) || c == '_';
    };
    return !name.empty() && !(name.front() >= '0' && name.front() <= '9') &&
           std::all_of(name.begin(), name.end(), word);
}

/// N, N/tcp or N/udp with 1 <= N <= 65535.
bool valid_port(std::string_view port) {
    const auto slash = port.find('/');
    if (slash != std::string_view::npos) {
        const auto protocol = port.substr(slash + 1);
        if (protocol != "tcp" && protocol != "udp") {
            return false;
        }
        port = port.substr(0, slash);
    }
    const auto value = number<unsigned>(port);
    return value && *value >= 1 && *value <= 65535;
}

bool valid_signal(std::string_view signal) {
    if (const auto value = number<int>(signal)) {
        return *value >= 1 && *value <= k_max_signal;
    }
    if (signal.starts_with("SIG")) {
        signal.remove_prefix(3);
    }
    return std::find(k_signals.begin(), k_signals.end(), signal) != k_signals.end();
}

/// Why `path` is not an absolute path without `..`, or nullopt when it is one.
std::optional<std::string> path_problem(std::string_view what, const std::string& path) {
    if (path.empty() || path.front() != '/') {
        return fmt::format("{} must be an absolute path, not `{}`", what, path);
    }
    const fs::path parsed(path);
    if (std::any_of(parsed.begin(), parsed.end(),
                    [](const fs::path& part) { return part == ".."; })) {
        return fmt::format("{} `{}` must not contain `..`", what, path);
    }
    return std::nullopt;
}

Location at(const std::map<std::string, Location>& values, const std::string& key,
            const Location& fallback) {
    const auto found = values.find(key);
    return found != values.end() ? found->second : fallback;
}

class Validator {
public:
    Validator(const Manifest& manifest, const DistroRules* rules)
        : m_manifest(manifest)
        , m_rules(rules)
        , m_facts(distro::facts(manifest.distro))
        , m_top(Location{manifest.path, 1, 1}) {}

    std::vector<Diagnostic> run() {
        check_required();
        check_archs();
        check_sources();
        check_packages();
        check_paths();
        check_accounts();
        check_config();
        check_files();
        check_certificates();
        check_variants();
        check_runtime();
        // Checks run field by field; the user reads the file top to bottom, base files first.
        const auto rank = [&](const Diagnostic& d) {
            const auto& files = m_manifest.included;
            const auto file = std::find(files.begin(), files.end(), d.where.file);
            return std::tuple(file - files.begin(), d.where.line, d.where.column);
        };
        std::stable_sort(
            m_diagnostics.begin(), m_diagnostics.end(),
            [&](const Diagnostic& a, const Diagnostic& b) { return rank(a) < rank(b); });
        return std::move(m_diagnostics);
    }

private:
    void report(Location where, std::string message, std::string hint = {}) {
        m_diagnostics.push_back(Diagnostic{std::move(where), std::move(message), std::move(hint)});
    }

    [[nodiscard]] Location value_at(const std::string& key) const {
        return at(m_manifest.values, key, m_top);
    }

    [[nodiscard]] std::string suites_example() const;
    void check_required();
    void check_archs();
    void check_sources();
    void check_packages();
    void check_package_name(const std::string& name, const Location& where, std::string_view what);
    void check_package_pattern(const std::string& pattern, const Location& where,
                               std::string_view what);
    void check_paths();
    void check_certificates();
    void check_accounts();
    void check_config();
    void check_user();
    void check_files();
    void check_variants();
    void check_runtime();

    const Manifest& m_manifest;
    const DistroRules* m_rules;
    const distro::Facts& m_facts;
    Location m_top;
    std::vector<Diagnostic> m_diagnostics;
};

void Validator::check_required() {
    const Manifest& manifest = m_manifest;
    if (manifest.name.empty()) {
        report(value_at("name"),
               manifest.keys.contains("name") ? "`name` is empty" : "missing required key `name`",
               "add the image name, e.g. `name: my-image`");
    } else if (!valid_image_name(manifest.name)) {
        const std::string lower = lowercase(manifest.name);
        report(value_at("name"), fmt::format("`{}` is not a valid image name", manifest.name),
               valid_image_name(lower)
                   ? fmt::format("image names are lowercase; did you mean `{}`?", lower)
                   : "use lowercase letters, digits, `.`, `_` and `-`, starting with a letter or "
                     "digit");
    }
    if (!manifest.keys.contains("distro")) {
        report(m_top, "missing required key `distro`", "add `distro: debian` or `distro: alpine`");
    }
    if (manifest.release.empty()) {
        report(value_at("release"),
               manifest.keys.contains("release") ? "`release` is empty"
                                                 : "missing required key `release`",
               m_rules != nullptr
                   ? fmt::format("add e.g. `release: {}`", m_rules->example_release())
                   : std::string("add the name of the release to build from"));
    }
}

void Validator::check_archs() {
    const Distro mine = m_manifest.distro;
    const auto known = distro::arch_names(mine);
    const std::string distro_name = distro::display_name(mine);
    std::map<std::string, Location> seen;
    for (const auto& arch : m_manifest.archs) {
        if (const auto first = seen.find(arch.value); first != seen.end()) {
            report(arch.where, fmt::format("arch `{}` is listed twice", arch.value),
                   fmt::format("it is already listed at {}", first->second.str()));
            continue;
        }
        seen.emplace(arch.value, arch.where);
        if (distro::find_arch(mine, arch.value) != nullptr) {
            continue;
        }
        const std::string message =
            fmt::format("unknown {} arch `{}`", to_string(mine), arch.value);
        // Another distro's name for a machine: this distro's name for it, when it has one.
        const auto table = distro::arch_table();
        const auto other = std::find_if(table.begin(), table.end(), [&](const distro::Arch& a) {
            return a.distro != mine && a.name == arch.value;
        });
        if (other != table.end()) {
            const auto other_name = distro::display_name(other->distro);
            if (const auto* alias = distro::same_machine(*other, mine)) {
                report(arch.where, message,
                       fmt::format("{} is {}'s name; {} calls it {}", arch.value, other_name,
                                   distro_name, alias->name));
            } else {
                report(arch.where, message,
                       fmt::format("{} is a {} arch; {} has: {}", arch.value, other_name,
                                   distro_name, core::join(known)));
            }
        } else if (const auto suggestion = core::closest(arch.value, known)) {
            report(arch.where, message, fmt::format("did you mean `{}`?", *suggestion));
        } else {
            report(arch.where, message,
                   fmt::format("{} archs: {}", distro_name, core::join(known)));
        }
    }
}

std::string Validator::suites_example() const {
    if (m_rules == nullptr) {
        return "write the names of the suites the archive has";
    }
    const auto suites = default_suites(m_manifest.distro, std::string(m_rules->example_release()));
    const std::size_t shown = std::min<std::size_t>(suites.size(), 2);
    std::string list;
    for (std::size_t i = 0; i < shown; ++i) {
        list += (i == 0 ? "" : ", ") + suites[i];
    }
    return fmt::format("write e.g. `suites: [{}]`", list);
}

void Validator::check_sources() {
    for (const auto& source : m_manifest.sources) {
        if (source.values.contains("url")) {
            const std::string& url = source.url;
            const bool scheme_ok = std::any_of(
                k_url_schemes.begin(), k_url_schemes.end(), [&](std::string_view scheme) {
                    return url.starts_with(scheme) && url.size() > scheme.size();
                });
            if (url.empty()) {
                report(at(source.values, "url", source.where), "source `url` is empty",
                       "remove `url` to use the default mirror");
            } else if (!scheme_ok || has_space(url)) {
                report(
                    at(source.values, "url", source.where),
                    fmt::format("source URL `{}` is not an http://, https:// or file:// URL", url),
                    "write e.g. `url: https://deb.example.org/debian` or `url: file:///srv/repo`");
            }
        }
        for (std::size_t i = 0; i < source.suites.size(); ++i) {
            const std::string& suite = source.suites[i];
            if (suite.empty() || has_space(suite)) {
                report(at(source.values, fmt::format("suites.{}", i), source.where),
                       fmt::format("suite `{}` is not a suite name", suite), suites_example());
            }
        }
        for (std::size_t i = 0; i < source.components.size(); ++i) {
            const std::string& component = source.components[i];
            if (component.empty() || has_space(component) ||
                component.find('/') != std::string::npos) {
                report(at(source.values, fmt::format("components.{}", i), source.where),
                       fmt::format("component `{}` is not a component name", component),
                       "a component is one word without `/`, e.g. `components: [main, contrib]`");
            }
        }
        if (source.values.contains("tag")) {
            const auto where = at(source.values, "tag", source.where);
            const bool word = !source.tag.empty() && source.tag.size() <= 64 &&
                              std::all_of(source.tag.begin(), source.tag.end(), [](char c) {
                                  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
                              });
            if (m_manifest.distro != Distro::alpine) {
                report(where, "`tag` pins an Alpine repository; Debian sources have no tags",
                       "remove `tag`; pin a package's version with `name=VERSION`");
            } else if (!word) {
                report(where, fmt::format("tag `{}` is not one word", source.tag),
                       "a tag is letters, digits, `-`, `_` and `.`, e.g. `tag: testing`");
            }
        }
        if (!source.keyring.empty()) {
            std::error_code error;
            // apk keeps its keys as a directory of files (/etc/apk/keys); apt a keyring file.
            const bool directory_too = m_manifest.distro == Distro::alpine;
            if (!fs::is_regular_file(source.keyring, error) &&
                !(directory_too && fs::is_directory(source.keyring, error))) {
                report(at(source.values, "keyring", source.where),
                       fmt::format("keyring `{}` is not a file{}", source.keyring.string(),
                                   directory_too ? " or a directory of keys" : ""),
                       "a relative path is relative to the manifest that names it");
            }
        }
    }
}

void Validator::check_package_name(const std::string& name, const Location& where,
                                   std::string_view what) {
    if (distro::valid_package_name(m_facts, name)) {
        return;
    }
    const std::string lower = lowercase(name);
    report(where, fmt::format("{} `{}` is not a valid package name", what, name),
           !m_facts.uppercase_names && distro::valid_package_name(m_facts, lower)
               ? fmt::format("{} package names are lowercase; did you mean `{}`?",
                             distro::display_name(m_manifest.distro), lower)
               : std::string(m_facts.name_rule));
}

void Validator::check_package_pattern(const std::string& pattern, const Location& where,
                                      std::string_view what) {
    // A name, or a glob over names ("perl-modules-*", "lib*-dev"): the glob characters aside,
    // only what package names are made of.
    std::string literal;
    for (const char c : pattern) {
        if (c != '*' && c != '?' && c != '[' && c != ']' && c != '!') {
            literal += c;
        }
    }
    if (literal.size() == pattern.size()) {
        check_package_name(pattern, where, what);
        return;
    }
    const bool ok = !pattern.empty() && std::all_of(literal.begin(), literal.end(), [&](char c) {
        return distro::package_name_char(m_facts, c);
    });
    if (!ok) {
        report(where, fmt::format("{} `{}` is not a valid package name or glob", what, pattern),
               fmt::format("{}; globs may add `*`, `?` and `[...]`", m_facts.name_rule));
    }
}

void Validator::check_packages() {
    std::map<std::string, Location> excluded;
    for (const auto& name : m_manifest.exclude) {
        check_package_pattern(name.value, name.where, "excluded name");
        excluded.try_emplace(name.value, name.where);
    }
    for (const auto& name : m_manifest.allow) {
        check_package_pattern(name.value, name.where, "allowed name");
        if (const auto found = excluded.find(name.value); found != excluded.end()) {
            report(name.where, fmt::format("`{}` is both allowed and excluded", name.value),
                   fmt::format("it is excluded at {}; keep one of the two", found->second.str()));
        }
    }
    std::set<std::string> tags;
    for (const auto& source : m_manifest.sources) {
        if (!source.tag.empty()) {
            tags.insert(source.tag);
        }
    }
    std::map<std::string, Location> requested;
    for (const auto& package : m_manifest.packages) {
        if (!distro::valid_provided_name(m_facts, package.name)) {
            check_package_name(package.name, package.where, "package");
        }
        if (has_space(package.version)) {
            report(package.where,
                   fmt::format("version `{}` of `{}` contains whitespace", package.version,
                               package.name),
                   "write the pin without spaces, e.g. `curl=7.88.1-10`");
        } else if (m_rules != nullptr && (!package.version.empty() || !package.tag.empty())) {
            if (auto problem = m_rules->check_request(package)) {
                m_diagnostics.push_back(std::move(*problem));
            }
        }
        if (!package.tag.empty() && m_rules != nullptr && !tags.contains(package.tag)) {
            report(package.where,
                   fmt::format("`{}@{}`: no source has `tag: {}`", package.name, package.tag,
                               package.tag),
                   tags.empty() ? fmt::format("add `tag: {}` to the source to pin", package.tag)
                                : fmt::format("the sources' tags: {}", fmt::join(tags, ", ")));
        }
        if (const auto first = requested.find(package.name); first != requested.end()) {
            report(package.where, fmt::format("package `{}` is requested twice", package.name),
                   fmt::format("it is already requested at {}", first->second.str()));
            continue;
        }
        requested.emplace(package.name, package.where);
        if (const auto found = excluded.find(package.name); found != excluded.end()) {
            report(package.where,
                   fmt::format("package `{}` is both requested and excluded", package.name),
                   fmt::format("it is excluded at {}; keep one of the two", found->second.str()));
        }
    }
}

void Validator::check_paths() {
    const auto check = [&](const std::vector<Located>& globs, std::string_view key) {
        for (const auto& glob : globs) {
            if (glob.value.empty()) {
                report(glob.where, fmt::format("empty glob in `paths.{}`", key),
                       "write e.g. `/usr/share/doc/**`");
            }
        }
    };
    check(m_manifest.paths.include, "include");
    check(m_manifest.paths.exclude, "exclude");
    check(m_manifest.paths.setuid, "setuid");
}

void Validator::check_certificates() {
    for (const auto& certificate : m_manifest.certificates) {
        std::error_code error;
        if (certificate.value.empty()) {
            report(certificate.where, "empty path in `certificates`",
                   "write the path of a PEM file, e.g. `certs/internal-ca.pem`");
        } else if (!std::filesystem::is_regular_file(certificate.value, error)) {
            report(certificate.where,
                   fmt::format("certificate file `{}` does not exist or is not a regular file",
                               certificate.value),
                   "paths are relative to the manifest that names them");
        }
    }
}

void Validator::check_accounts() {
    std::map<std::string, const Account*> names;
    std::map<std::uint32_t, const Account*> uids;
    for (const auto& account : m_manifest.accounts) {
        const Location name_at = at(account.values, "name", account.where);
        const Location uid_at = at(account.values, "uid", account.where);
        if (!valid_account_name(account.name)) {
            report(name_at, fmt::format("`{}` is not a valid account name", account.name),
                   "use lowercase letters, digits, `_` and `-`, starting with a letter or `_`, "
                   "at most 32 characters");
        }
        for (const char* key : {"home", "shell"}) {
            const std::string& value =
                std::string_view(key) == "home" ? account.home : account.shell;
            if (!value.empty()) {
                if (auto problem = path_problem(fmt::format("`{}`", key), value)) {
                    report(at(account.values, key, account.where), std::move(*problem));
                }
            }
        }
        if (const auto first = names.find(account.name); first != names.end()) {
            report(name_at, fmt::format("account `{}` is defined twice", account.name),
                   fmt::format("it is already defined at {}", first->second->where.str()));
            continue;
        }
        names.emplace(account.name, &account);
        const auto& builtins = builtin_accounts();
        const auto same_name =
            std::find_if(builtins.begin(), builtins.end(),
                         [&](const Account& b) { return b.name == account.name; });
        const auto same_uid = std::find_if(builtins.begin(), builtins.end(),
                                           [&](const Account& b) { return b.uid == account.uid; });
        if (same_name != builtins.end() && same_name->uid != account.uid) {
            report(
                uid_at,
                fmt::format("`{}` is a built-in account with uid {}", account.name, same_name->uid),
                fmt::format("give it uid {} or choose another name", same_name->uid));
        } else if (same_uid != builtins.end() && same_uid->name != account.name) {
            report(uid_at,
                   fmt::format("uid {} belongs to the built-in account `{}`", account.uid,
                               same_uid->name),
                   fmt::format("choose another uid, e.g. 1000, or name the account `{}`",
                               same_uid->name));
        } else if (const auto first = uids.find(account.uid); first != uids.end()) {
            report(uid_at,
                   fmt::format("uid {} is already used by account `{}`", account.uid,
                               first->second->name),
                   fmt::format("`{}` has it at {}", first->second->name,
                               at(first->second->values, "uid", first->second->where).str()));
        }
        uids.try_emplace(account.uid, &account);
    }
}

void Validator::check_user() {
    const std::string& user = m_manifest.config.user;
    if (user.empty()) {
        return;
    }
    const Location where = at(m_manifest.config.values, "user", m_top);
    // uid or uid:gid
    if (std::all_of(user.begin(), user.end(),
                    [](char c) { return (c >= '0' && c <= '9') || c == ':'; })) {
        const auto colon = user.find(':');
        const std::string_view uid = std::string_view(user).substr(0, colon);
        const bool ok = number<std::uint32_t>(uid) &&
                        (colon == std::string::npos ||
                         number<std::uint32_t>(std::string_view(user).substr(colon + 1)));
        if (!ok) {
            report(where, fmt::format("user `{}` is not a uid or uid:gid", user),
                   "write e.g. `user: 65532` or `user: 65532:65532`");
        }
        return;
    }
    std::vector<std::string_view> known;
    for (const auto& account : builtin_accounts()) {
        known.push_back(account.name);
    }
    for (const auto& account : m_manifest.accounts) {
        known.push_back(account.name);
    }
    if (std::find(known.begin(), known.end(), user) != known.end()) {
        return;
    }
    const auto suggestion = core::closest(user, known);
    report(where, fmt::format("user `{}` is not an account", user),
           suggestion ? fmt::format("did you mean `{}`?", *suggestion)
                      : fmt::format("use one of: {}; or add it under `accounts`, or give a numeric "
                                    "uid[:gid]",
                                    core::join(known)));
}

void Validator::check_config() {
    const ImageConfig& config = m_manifest.config;
    check_user();
    for (std::size_t i = 0; i < config.ports.size(); ++i) {
        if (!valid_port(config.ports[i])) {
            report(at(config.values, fmt::format("ports.{}", i), m_top),
                   fmt::format("port `{}` is not N, N/tcp or N/udp with N from 1 to 65535",
                               config.ports[i]),
                   "write e.g. `ports: [8080/tcp, 53/udp]`");
        }
    }
    for (const auto& [name, value] : config.env) {
        if (!valid_env_name(name)) {
            report(at(config.values, "env." + name, m_top),
                   fmt::format("`{}` is not a valid environment variable name", name),
                   "use letters, digits and `_`, not starting with a digit");
        }
    }
    for (const auto& [name, value] : config.labels) {
        if (name.empty()) {
            report(at(config.values, "labels." + name, m_top), "label name is empty",
                   "write e.g. `org.opencontainers.image.source: https://...`");
        } else if (name == runtime::k_seccomp_label || name == runtime::k_settings_label) {
            report(at(config.values, "labels." + name, m_top),
                   fmt::format("the label `{}` is distill's: it holds the image's runtime profile",
                               name),
                   "relax the profile under `runtime:` (allow_syscalls, capabilities, "
                   "writable_paths) instead");
        }
    }
    if (config.values.contains("stop-signal") && !valid_signal(config.stop_signal)) {
        std::vector<std::string> names;
        names.reserve(k_signals.size());
        for (const auto signal : k_signals) {
            names.push_back(fmt::format("SIG{}", signal));
        }
        std::vector<std::string_view> candidates(names.begin(), names.end());
        candidates.insert(candidates.end(), k_signals.begin(), k_signals.end());
        const auto suggestion = core::closest(config.stop_signal, candidates);
        report(at(config.values, "stop-signal", m_top),
               fmt::format("`{}` is not a signal", config.stop_signal),
               suggestion ? fmt::format("did you mean `{}`?", *suggestion)
                          : fmt::format("write a signal name such as SIGTERM, SIGINT, SIGQUIT or "
                                        "a number from 1 to {}",
                                        k_max_signal));
    }
    if (config.values.contains("workdir")) {
        if (auto problem = path_problem("`workdir`", config.workdir)) {
            report(at(config.values, "workdir", m_top), std::move(*problem),
                   "write the directory's absolute path in the image, e.g. `workdir: /app`");
        }
    }
}

void Validator::check_files() {
    std::map<std::string, Location> destinations;
    for (const auto& file : m_manifest.files) {
        const Location src_at = at(file.values, "src", file.where);
        const Location dst_at = at(file.values, "dst", file.where);
        std::error_code error;
        const auto status = fs::status(file.source, error);
        if (file.source.empty()) {
            report(src_at, "`src` is empty", "name the local file to copy, e.g. `src: app.conf`");
        } else if (!fs::exists(status)) {
            report(src_at, fmt::format("`src` file `{}` does not exist", file.source.string()),
                   "a relative path is relative to the manifest that names it");
        } else if (!fs::is_regular_file(status)) {
            report(src_at, fmt::format("`src` `{}` is not a regular file", file.source.string()),
                   "name a file; directories are not copied");
        }
        if (auto problem = path_problem("`dst`", file.destination)) {
            report(dst_at, std::move(*problem),
                   "write the file's absolute path in the image, e.g. `dst: /etc/app.conf`");
        } else if (file.destination == "/" || file.destination.ends_with('/')) {
            report(dst_at, fmt::format("`dst` `{}` names a directory", file.destination),
                   "write the file's full path, e.g. `dst: /etc/app.conf`");
        } else if (const auto first = destinations.find(file.destination);
                   first != destinations.end()) {
            report(dst_at, fmt::format("two files are copied to `{}`", file.destination),
                   fmt::format("the other is at {}", first->second.str()));
        } else {
            destinations.emplace(file.destination, dst_at);
        }
    }
}

} // namespace

void Validator::check_variants() {
    constexpr std::array<std::string_view, 2> known{k_variant_debug, k_variant_root};
    std::set<std::string> seen;
    for (const auto& variant : m_manifest.variants) {
        if (std::find(known.begin(), known.end(), variant.value) == known.end()) {
            const auto suggestion = core::closest(variant.value, known);
            report(variant.where, fmt::format("unknown variant `{}`", variant.value),
                   suggestion ? fmt::format("did you mean `{}`?", *suggestion)
                              : "the variants are `debug` (busybox under /busybox) and `root` "
                                "(runs as uid 0)");
        } else if (!seen.insert(variant.value).second) {
            report(variant.where, fmt::format("variant `{}` is listed twice", variant.value),
                   "remove one");
        }
    }
}

void Validator::check_runtime() {
    const RuntimeRules& rules = m_manifest.runtime;
    for (const auto& name : rules.allow_syscalls) {
        switch (runtime::syscall_rule(name.value)) {
        case runtime::SyscallRule::denied:
        case runtime::SyscallRule::denied_by_default:
            break;
        case runtime::SyscallRule::allowed:
            report(name.where, fmt::format("the runtime profile allows `{}` already", name.value),
                   "list only system calls it denies (see the manifest reference)");
            break;
        case runtime::SyscallRule::unknown: {
            std::vector<std::string_view> names;
            for (const auto& denial : runtime::denials()) {
                names.insert(names.end(), denial.names.begin(), denial.names.end());
            }
            const auto suggestion = core::closest(name.value, names);
            report(name.where,
                   fmt::format("`{}` is not a system call the runtime profile knows",
                               core::printable(name.value)),
                   suggestion ? fmt::format("did you mean `{}`?", *suggestion)
                              : "write a Linux system call's name, such as `ptrace`");
            break;
        }
        }
    }
    for (const auto& name : rules.capabilities) {
        if (!runtime::capability_name(name.value)) {
            const auto suggestion = core::closest("CAP_" + name.value, runtime::capabilities());
            report(name.where,
                   fmt::format("`{}` is not a Linux capability", core::printable(name.value)),
                   suggestion ? fmt::format("did you mean `{}`?", suggestion->substr(4))
                              : "write a capability's name, such as `NET_BIND_SERVICE`");
        }
    }
    for (const auto& path : rules.writable_paths) {
        if (auto problem = path_problem("a writable path", path.value)) {
            report(path.where, std::move(*problem),
                   "write the directory's absolute path in the image, e.g. `/var/cache/app`");
        } else if (path.value.size() > 1024 ||
                   std::any_of(path.value.begin(), path.value.end(), [](char c) {
                       return static_cast<unsigned char>(c) < 0x20 || c == ',' || c == '"' ||
                              c == '\\';
                   })) {
            report(path.where,
                   "a writable path holds a comma, a quote, a backslash or a "
                   "control character, which the runtimes' flags cannot take",
                   "name a plain directory");
        }
    }
}

void validate(const Manifest& manifest, const DistroRules* rules) {
    auto diagnostics = Validator(manifest, rules).run();
    if (!diagnostics.empty()) {
        throw ManifestError(std::move(diagnostics));
    }
}

} // namespace distill::manifest
