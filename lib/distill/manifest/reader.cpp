#include <array>
#include <charconv>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <distill/core/text.hpp>
#include <distill/manifest/reader.hpp>
#include <distill/manifest/yaml_guard.hpp>

namespace distill::manifest::detail {
namespace {

namespace fs = std::filesystem;

constexpr std::array<std::string_view, 16> k_top_keys{
    "name",  "distro",   "release", "archs", "sources",      "packages", "exclude",  "allow",
    "paths", "accounts", "config",  "files", "certificates", "include",  "variants", "runtime"};
constexpr std::array<std::string_view, 3> k_runtime_keys{"allow_syscalls", "capabilities",
                                                         "writable_paths"};
constexpr std::array<std::string_view, 3> k_path_keys{"include", "exclude", "setuid"};
constexpr std::array<std::string_view, 5> k_source_keys{"url", "suites", "components", "keyring",
                                                        "tag"};
constexpr std::array<std::string_view, 5> k_account_keys{"name", "uid", "gid", "home", "shell"};
constexpr std::array<std::string_view, 8> k_config_keys{
    "entrypoint", "cmd", "env", "workdir", "user", "labels", "ports", "stop-signal"};
constexpr std::array<std::string_view, 5> k_file_keys{"src", "dst", "mode", "uid", "gid"};
constexpr std::array<std::string_view, 2> k_distros{"debian", "alpine"};

/// One key of a YAML map with its value and their positions.
struct Entry {
    std::string key;
    YAML::Node value;
    Location key_at;
    /// The value's position; the key's when the value is empty, because yaml-cpp marks an
    /// empty value at whatever token follows it, often on the next line.
    Location value_at;
};

std::string_view kind(const YAML::Node& node) {
    switch (node.Type()) {
    case YAML::NodeType::Scalar:
        return "a string";
    case YAML::NodeType::Sequence:
        return "a list";
    case YAML::NodeType::Map:
        return "a map";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
        break;
    }
    return "empty";
}

/// Whether a single-line scalar can go into a flow list `[x]` as it is.
bool plain_in_flow(std::string_view text) {
    return !text.empty() && text.find_first_of(",[]{}:#\"'\n") == std::string_view::npos;
}

class Reader {
public:
    Reader(fs::path file, std::string_view example_release, std::vector<Diagnostic>& diagnostics)
        : m_file(std::move(file))
        , m_dir(fs::absolute(m_file).parent_path())
        , m_example_release(example_release)
        , m_diagnostics(diagnostics) {}

    Layer read(const std::string& text);

private:
    using Visit = std::function<void(const Entry&)>;

    [[nodiscard]] Location at(const YAML::Mark& mark) const {
        if (mark.is_null()) {
            return Location{m_file, 0, 0};
        }
        return Location{m_file, mark.line + 1, mark.column + 1};
    }
    [[nodiscard]] Location at(const YAML::Node& node) const { return at(node.Mark()); }

    void report(Location where, std::string message, std::string hint = {}) {
        m_diagnostics.push_back(Diagnostic{std::move(where), std::move(message), std::move(hint)});
    }

    void walk(const YAML::Node& map, std::span<const std::string_view> known,
              std::string_view context, const Visit& visit);
    bool expect_map(const Entry& entry, std::string_view example);
    std::optional<std::string> string(const Entry& entry, std::string_view example);
    std::vector<Located> strings(const Entry& entry, std::string_view example,
                                 bool single_allowed = false);
    std::vector<std::pair<Located, std::string>> string_map(const Entry& entry);
    std::optional<std::uint32_t> id(const Entry& entry);
    std::optional<unsigned> mode(const Entry& entry);
    [[nodiscard]] fs::path resolve(const std::string& value) const;

    template <typename ReadItem>
    void list_of_maps(const Entry& entry, std::string_view example, ReadItem&& read_item);

    void read_top(const Entry& entry, Layer& layer);
    void read_packages(const Entry& entry, std::vector<PackageRequest>& packages);
    Source read_source(const YAML::Node& node);
    std::optional<Account> read_account(const YAML::Node& node);
    std::optional<FileEntry> read_file(const YAML::Node& node);
    void read_config(const Entry& entry, ImageConfig& config);
    void read_paths(const Entry& entry, PathRules& paths);
    void read_runtime(const Entry& entry, RuntimeRules& runtime);

    fs::path m_file;
    fs::path m_dir;
    std::string_view m_example_release; ///< the caller's, outlives the Reader
    std::vector<Diagnostic>& m_diagnostics;
};

Layer Reader::read(const std::string& text) {
    Layer layer;
    layer.manifest.path = m_file;
    layer.manifest.included = {m_file};

    // yaml-cpp can hang on malformed input; the guard says so first, at its line and column.
    if (auto problem = guard_yaml(m_file, text)) {
        m_diagnostics.push_back(std::move(*problem));
        return layer;
    }
    std::vector<YAML::Node> documents;
    try {
        documents = YAML::LoadAll(text);
    } catch (const YAML::Exception& e) {
        report(at(e.mark), fmt::format("YAML syntax error: {}", e.msg));
        return layer;
    }
    // A trailing `---` yields an empty document; only one with content is a mistake.
    for (std::size_t i = 1; i < documents.size(); ++i) {
        if (!documents[i].IsNull()) {
            report(at(documents[i]), "a manifest is a single YAML document",
                   "remove the `---` line or move this part into its own manifest");
            break;
        }
    }
    // An empty file parses to nothing; validate() names the keys it misses.
    if (documents.empty() || documents.front().IsNull()) {
        return layer;
    }
    const YAML::Node& root = documents.front();
    if (!root.IsMap()) {
        report(at(root), fmt::format("a manifest must be a map of keys, not {}", kind(root)),
               fmt::format("start with `name: my-image`, `distro: debian`, `release: {}`",
                           m_example_release));
        return layer;
    }
    walk(root, k_top_keys, "", [&](const Entry& entry) {
        layer.manifest.keys[entry.key] = entry.key_at;
        read_top(entry, layer);
    });
    return layer;
}

void Reader::walk(const YAML::Node& map, std::span<const std::string_view> known,
                  std::string_view context, const Visit& visit) {
    // yaml-cpp 0.7 keeps both pairs of a duplicated key (and lookups find the first), so
    // duplicates are caught here, in the order they were written.
    std::map<std::string, Location, std::less<>> seen;
    for (const auto& pair : map) {
        const YAML::Node& key = pair.first;
        const Location key_at = at(key);
        if (!key.IsScalar()) {
            report(key_at, fmt::format("a key must be a string, not {}", kind(key)));
            continue;
        }
        const std::string& name = key.Scalar();
        if (const auto first = seen.find(name); first != seen.end()) {
            report(key_at, fmt::format("duplicate key `{}`", name),
                   fmt::format("`{}` is already set at line {}, column {}; keep one of them", name,
                               first->second.line, first->second.column));
            continue;
        }
        seen.emplace(name, key_at);
        if (!known.empty() &&
            std::find(known.begin(), known.end(), std::string_view(name)) == known.end()) {
            const auto suggestion = core::closest(name, known);
            std::string message = context.empty()
                                      ? fmt::format("unknown key `{}`", name)
                                      : fmt::format("unknown key `{}` in {}", name, context);
            report(key_at, std::move(message),
                   suggestion ? fmt::format("did you mean `{}`?", *suggestion)
                              : fmt::format("known keys here: {}", core::join(known)));
            continue;
        }
        const YAML::Node& value = pair.second;
        visit(Entry{name, value, key_at, value.IsNull() ? key_at : at(value)});
    }
}

bool Reader::expect_map(const Entry& entry, std::string_view example) {
    if (entry.value.IsMap()) {
        return true;
    }
    if (!entry.value.IsNull()) {
        report(entry.value_at,
               fmt::format("`{}` must be a map, not {}", entry.key, kind(entry.value)),
               fmt::format("write it as keys under `{}:`, e.g. {}", entry.key, example));
    }
    return false;
}

std::optional<std::string> Reader::string(const Entry& entry, std::string_view example) {
    if (entry.value.IsScalar()) {
        return entry.value.Scalar();
    }
    if (entry.value.IsNull()) {
        report(entry.value_at, fmt::format("`{}` has no value", entry.key),
               fmt::format("write e.g. `{}: {}`", entry.key, example));
    } else {
        report(entry.value_at,
               fmt::format("`{}` must be a string, not {}", entry.key, kind(entry.value)),
               fmt::format("write e.g. `{}: {}`", entry.key, example));
    }
    return std::nullopt;
}

std::vector<Located> Reader::strings(const Entry& entry, std::string_view example,
                                     bool single_allowed) {
    std::vector<Located> out;
    const YAML::Node& value = entry.value;
    // An empty value is an empty list: it is what remains when every entry is commented out.
    if (value.IsNull()) {
        return out;
    }
    if (value.IsScalar()) {
        if (single_allowed) {
            out.push_back(Located{value.Scalar(), entry.value_at});
            return out;
        }
        const std::string& text = value.Scalar();
        report(entry.value_at,
               fmt::format("`{}` must be a list of strings, not a string", entry.key),
               plain_in_flow(text)
                   ? fmt::format("write it as a list: `{}: [{}]`", entry.key, text)
                   : fmt::format("write it as a list, one `- {}` per line", entry.key));
        return out;
    }
    if (!value.IsSequence()) {
        report(entry.value_at,
               fmt::format("`{}` must be a list of strings, not {}", entry.key, kind(value)),
               fmt::format("write it as a list: `{}: [{}]`", entry.key, example));
        return out;
    }
    for (const auto& item : value) {
        if (item.IsScalar()) {
            out.push_back(Located{item.Scalar(), at(item)});
        } else if (item.IsNull()) {
            // The mark of an empty item is the next token's; the list's is closer to the truth.
            report(entry.value_at, fmt::format("`{}` has an empty entry", entry.key),
                   "remove the lone `-` or give it a value");
        } else {
            report(at(item),
                   fmt::format("entries of `{}` must be strings, not {}", entry.key, kind(item)),
                   fmt::format("write e.g. `{}: [{}]`", entry.key, example));
        }
    }
    return out;
}

std::vector<std::pair<Located, std::string>> Reader::string_map(const Entry& entry) {
    std::vector<std::pair<Located, std::string>> out;
    if (entry.value.IsNull()) {
        return out;
    }
    if (!entry.value.IsMap()) {
        report(entry.value_at,
               fmt::format("`{}` must be a map of names to strings, not {}", entry.key,
                           kind(entry.value)),
               fmt::format("write one `NAME: value` per line under `{}:`", entry.key));
        return out;
    }
    walk(entry.value, {}, "", [&](const Entry& item) {
        if (item.value.IsScalar()) {
            out.emplace_back(Located{item.key, item.key_at}, item.value.Scalar());
        } else if (item.value.IsNull()) {
            report(item.value_at, fmt::format("`{}` in `{}` has no value", item.key, entry.key),
                   fmt::format("write `{}: \"\"` for an empty value", item.key));
        } else {
            report(item.value_at, fmt::format("`{}` in `{}` must be a string, not {}", item.key,
                                              entry.key, kind(item.value)));
        }
    });
    return out;
}

std::optional<std::uint32_t> Reader::id(const Entry& entry) {
    const auto text = string(entry, "1000");
    if (!text) {
        return std::nullopt;
    }
    std::uint64_t number = 0;
    const char* const end = text->data() + text->size();
    const auto [stop, error] = std::from_chars(text->data(), end, number);
    if (text->empty() || error != std::errc{} || stop != end ||
        number > std::numeric_limits<std::uint32_t>::max()) {
        report(entry.value_at,
               fmt::format("`{}` must be a whole number from 0 to {}, not `{}`", entry.key,
                           std::numeric_limits<std::uint32_t>::max(), *text),
               fmt::format("write e.g. `{}: 1000`", entry.key));
        return std::nullopt;
    }
    return static_cast<std::uint32_t>(number);
}

std::optional<unsigned> Reader::mode(const Entry& entry) {
    const auto text = string(entry, "\"0644\"");
    if (!text) {
        return std::nullopt;
    }
    // Three or four octal digits: permission bits, optionally led by setuid/setgid/sticky.
    unsigned value = 0;
    const char* const end = text->data() + text->size();
    const auto [stop, error] = std::from_chars(text->data(), end, value, 8);
    if (text->size() < 3 || text->size() > 4 || error != std::errc{} || stop != end) {
        report(entry.value_at, fmt::format("`mode` must be an octal mode, not `{}`", *text),
               "write three or four octal digits, e.g. `mode: \"0755\"`");
        return std::nullopt;
    }
    return value;
}

fs::path Reader::resolve(const std::string& value) const {
    const fs::path path(value);
    return (path.is_absolute() ? path : m_dir / path).lexically_normal();
}

template <typename ReadItem>
void Reader::list_of_maps(const Entry& entry, std::string_view example, ReadItem&& read_item) {
    if (entry.value.IsNull()) {
        return;
    }
    if (!entry.value.IsSequence()) {
        report(entry.value_at,
               fmt::format("`{}` must be a list of maps, not {}", entry.key, kind(entry.value)),
               fmt::format("start each entry with `- `, e.g. `- {}`", example));
        return;
    }
    for (const auto& item : entry.value) {
        if (item.IsMap()) {
            read_item(item);
        } else if (item.IsNull()) {
            report(entry.value_at, fmt::format("`{}` has an empty entry", entry.key),
                   "remove the lone `-` or give it keys");
        } else {
            report(at(item),
                   fmt::format("entries of `{}` must be maps, not {}", entry.key, kind(item)),
                   fmt::format("write e.g. `- {}`", example));
        }
    }
}

void Reader::read_top(const Entry& entry, Layer& layer) {
    Manifest& manifest = layer.manifest;
    const std::string& key = entry.key;
    if (key == "name" || key == "release" || key == "distro" || key == "include") {
        const std::string_view example = key == "name"      ? "my-image"
                                         : key == "release" ? m_example_release
                                         : key == "distro"  ? "debian"
                                                            : "base.yaml";
        const auto text = string(entry, example);
        if (!text) {
            return;
        }
        manifest.values[key] = entry.value_at;
        if (key == "name") {
            manifest.name = *text;
        } else if (key == "release") {
            manifest.release = *text;
        } else if (key == "include") {
            layer.include = Located{*text, entry.value_at};
        } else if (*text == "debian") {
            manifest.distro = Distro::debian;
        } else if (*text == "alpine") {
            manifest.distro = Distro::alpine;
        } else {
            const auto suggestion = core::closest(*text, k_distros);
            report(entry.value_at, fmt::format("unknown distro `{}`", *text),
                   fmt::format("{}distro is one of: {}",
                               suggestion ? fmt::format("did you mean `{}`? ", *suggestion) : "",
                               core::join(k_distros)));
        }
    } else if (key == "archs") {
        manifest.archs = strings(entry, "amd64, arm64");
    } else if (key == "packages") {
        read_packages(entry, manifest.packages);
    } else if (key == "exclude") {
        manifest.exclude = strings(entry, "perl-base");
    } else if (key == "allow") {
        manifest.allow = strings(entry, "dash");
    } else if (key == "sources") {
        list_of_maps(entry, "url: https://deb.example.org/debian", [&](const YAML::Node& item) {
            manifest.sources.push_back(read_source(item));
        });
    } else if (key == "accounts") {
        list_of_maps(entry, "name: app", [&](const YAML::Node& item) {
            if (auto account = read_account(item)) {
                manifest.accounts.push_back(std::move(*account));
            }
        });
    } else if (key == "files") {
        list_of_maps(entry, "src: app.conf", [&](const YAML::Node& item) {
            if (auto file = read_file(item)) {
                manifest.files.push_back(std::move(*file));
            }
        });
    } else if (key == "config") {
        read_config(entry, manifest.config);
    } else if (key == "paths") {
        read_paths(entry, manifest.paths);
    } else if (key == "variants") {
        manifest.variants = strings(entry, "debug, root");
    } else if (key == "runtime") {
        read_runtime(entry, manifest.runtime);
    } else if (key == "certificates") {
        for (auto& item : strings(entry, "certs/internal-ca.pem")) {
            if (!item.value.empty()) {
                item.value = resolve(item.value).string();
            }
            manifest.certificates.push_back(std::move(item));
        }
    }
}

void Reader::read_packages(const Entry& entry, std::vector<PackageRequest>& packages) {
    for (auto& item : strings(entry, "curl, ca-certificates")) {
        PackageRequest request;
        request.where = item.where;
        // name[@tag][OP version]: the distro's rules (check_request()) say which parts it takes.
        const std::string_view text = item.value;
        const auto end_of_name = text.find_first_of("@<>=~");
        request.name = std::string(text.substr(0, end_of_name));
        auto rest =
            end_of_name == std::string_view::npos ? std::string_view() : text.substr(end_of_name);
        if (rest.starts_with('@')) {
            const auto end_of_tag = rest.find_first_of("<>=~");
            request.tag = std::string(rest.substr(
                1, end_of_tag == std::string_view::npos ? std::string_view::npos : end_of_tag - 1));
            rest =
                end_of_tag == std::string_view::npos ? std::string_view() : rest.substr(end_of_tag);
            if (request.tag.empty()) {
                report(item.where, fmt::format("`{}` has an empty repository tag", item.value),
                       fmt::format("write `{}@TAG`, with the `tag` of a source", request.name));
                continue;
            }
        }
        if (!rest.empty()) {
            const auto end_of_relation = rest.find_first_not_of("<>=~");
            request.relation = std::string(rest.substr(0, end_of_relation));
            if (end_of_relation != std::string_view::npos) {
                request.version = std::string(rest.substr(end_of_relation));
            }
            // PackageRequest cannot tell `curl=` from `curl`, so the empty pin is caught here.
            if (request.version.empty()) {
                report(item.where, fmt::format("pin `{}` has no version", item.value),
                       fmt::format("write `{}` for the best version, or `{}=VERSION`", request.name,
                                   request.name));
                continue;
            }
        }
        packages.push_back(std::move(request));
    }
}

Source Reader::read_source(const YAML::Node& node) {
    Source source;
    source.where = at(node);
    walk(node, k_source_keys, "a source", [&](const Entry& entry) {
        if (entry.key == "tag") {
            if (auto text = string(entry, "testing")) {
                source.tag = std::move(*text);
                source.values["tag"] = entry.value_at;
            }
        } else if (entry.key == "url") {
            if (auto text = string(entry, "https://deb.example.org/debian")) {
                source.url = std::move(*text);
                source.values["url"] = entry.value_at;
            }
        } else if (entry.key == "keyring") {
            if (auto text = string(entry, "archive-keyring.gpg")) {
                if (text->empty()) {
                    report(entry.value_at, "`keyring` is empty",
                           "remove it to use the host's archive keyring");
                    return;
                }
                source.keyring = resolve(*text);
                source.values["keyring"] = entry.value_at;
            }
        } else {
            auto& list = entry.key == "suites" ? source.suites : source.components;
            const auto items = strings(
                entry, entry.key == "suites" ? std::string_view(m_example_release) : "main");
            for (std::size_t i = 0; i < items.size(); ++i) {
                list.push_back(items[i].value);
                source.values[fmt::format("{}.{}", entry.key, i)] = items[i].where;
            }
        }
    });
    return source;
}

std::optional<Account> Reader::read_account(const YAML::Node& node) {
    Account account;
    account.where = at(node);
    bool has_name = false;
    bool has_uid = false;
    bool ok = true;
    walk(node, k_account_keys, "an account", [&](const Entry& entry) {
        if (entry.key == "uid" || entry.key == "gid") {
            // A uid that is there but wrong is one problem, not also a missing uid.
            has_uid = has_uid || entry.key == "uid";
            const auto number = id(entry);
            if (!number) {
                ok = false;
                return;
            }
            if (entry.key == "uid") {
                account.uid = *number;
            } else {
                account.gid = *number;
            }
        } else {
            has_name = has_name || entry.key == "name";
            auto text = string(entry, entry.key == "name" ? "app" : "/home/app");
            if (!text) {
                ok = false;
                return;
            }
            if (entry.key == "name") {
                account.name = std::move(*text);
            } else if (entry.key == "home") {
                account.home = std::move(*text);
            } else {
                account.shell = std::move(*text);
            }
        }
        account.values[entry.key] = entry.value_at;
    });
    // The struct has no way to say "uid missing" (0 is root), so required keys are checked here.
    if (!has_name) {
        report(account.where, "account has no `name`", "add e.g. `name: app`");
        ok = false;
    }
    if (!has_uid) {
        report(account.where,
               !account.name.empty() ? fmt::format("account `{}` has no `uid`", account.name)
                                     : std::string("account has no `uid`"),
               "add e.g. `uid: 1000`");
        ok = false;
    }
    return ok ? std::optional<Account>(std::move(account)) : std::nullopt;
}

std::optional<FileEntry> Reader::read_file(const YAML::Node& node) {
    FileEntry file;
    file.where = at(node);
    bool has_src = false;
    bool has_dst = false;
    bool ok = true;
    walk(node, k_file_keys, "a file", [&](const Entry& entry) {
        if (entry.key == "uid" || entry.key == "gid") {
            const auto number = id(entry);
            if (!number) {
                ok = false;
                return;
            }
            (entry.key == "uid" ? file.uid : file.gid) = *number;
        } else if (entry.key == "mode") {
            const auto bits = mode(entry);
            if (!bits) {
                ok = false;
                return;
            }
            file.mode = *bits;
        } else {
            (entry.key == "src" ? has_src : has_dst) = true;
            auto text = string(entry, entry.key == "src" ? "app.conf" : "/etc/app.conf");
            if (!text) {
                ok = false;
                return;
            }
            if (entry.key == "src") {
                // An empty src would resolve to the manifest's directory; keep it empty so
                // validate() can say what is wrong.
                file.source = text->empty() ? fs::path() : resolve(*text);
            } else {
                file.destination = std::move(*text);
            }
        }
        file.values[entry.key] = entry.value_at;
    });
    if (!has_src) {
        report(file.where, "file has no `src`", "add the local file to copy, e.g. `src: app.conf`");
        ok = false;
    }
    if (!has_dst) {
        report(file.where, "file has no `dst`",
               "add its path in the image, e.g. `dst: /etc/app.conf`");
        ok = false;
    }
    return ok ? std::optional<FileEntry>(std::move(file)) : std::nullopt;
}

void Reader::read_config(const Entry& entry, ImageConfig& config) {
    if (!expect_map(entry, "`user: nonroot`")) {
        return;
    }
    walk(entry.value, k_config_keys, "`config`", [&](const Entry& item) {
        const std::string& key = item.key;
        if (key == "entrypoint" || key == "cmd") {
            auto& target = key == "entrypoint" ? config.entrypoint : config.cmd;
            for (auto& word : strings(item, "/usr/bin/app, --serve", true)) {
                target.push_back(std::move(word.value));
            }
            config.values[key] = item.value_at;
        } else if (key == "env" || key == "labels") {
            auto& target = key == "env" ? config.env : config.labels;
            for (auto& [name, value] : string_map(item)) {
                config.values[fmt::format("{}.{}", key, name.value)] = name.where;
                target[name.value] = std::move(value);
            }
        } else if (key == "ports") {
            const auto ports = strings(item, "8080/tcp");
            for (std::size_t i = 0; i < ports.size(); ++i) {
                config.values[fmt::format("ports.{}", i)] = ports[i].where;
                config.ports.push_back(ports[i].value);
            }
        } else {
            const auto example = key == "workdir" ? "/app" : key == "user" ? "nonroot" : "SIGTERM";
            if (auto text = string(item, example)) {
                (key == "workdir" ? config.workdir
                 : key == "user"  ? config.user
                                  : config.stop_signal) = std::move(*text);
                config.values[key] = item.value_at;
            }
        }
    });
}

void Reader::read_paths(const Entry& entry, PathRules& paths) {
    if (!expect_map(entry, "`exclude: [/usr/share/doc/**]`")) {
        return;
    }
    walk(entry.value, k_path_keys, "`paths`", [&](const Entry& item) {
        auto globs = strings(item, "/usr/share/doc/**");
        auto& target = item.key == "include"   ? paths.include
                       : item.key == "exclude" ? paths.exclude
                                               : paths.setuid;
        target.insert(target.end(), globs.begin(), globs.end());
    });
}

} // namespace

Layer read_layer(const std::filesystem::path& file, const std::string& text,
                 std::string_view example_release, std::vector<Diagnostic>& diagnostics) {
    return Reader(file, example_release, diagnostics).read(text);
}

void Reader::read_runtime(const Entry& entry, RuntimeRules& runtime) {
    if (!expect_map(entry, "`allow_syscalls: [ptrace]`")) {
        return;
    }
    walk(entry.value, k_runtime_keys, "`runtime`", [&](const Entry& item) {
        auto values = strings(item, item.key == "allow_syscalls" ? "ptrace"
                                    : item.key == "capabilities" ? "NET_BIND_SERVICE"
                                                                 : "/var/cache/app");
        auto& target = item.key == "allow_syscalls" ? runtime.allow_syscalls
                       : item.key == "capabilities" ? runtime.capabilities
                                                    : runtime.writable_paths;
        target.insert(target.end(), values.begin(), values.end());
    });
}

} // namespace distill::manifest::detail
