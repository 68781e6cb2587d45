#include <algorithm>
#include <string_view>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include <distill/core/fs.hpp>
#include <distill/distro/facts.hpp>
#include <distill/manifest/manifest.hpp>
#include <distill/manifest/reader.hpp>
#include <distill/manifest/yaml_guard.hpp>

namespace distill::manifest {
namespace {

namespace fs = std::filesystem;

std::string join_diagnostics(const std::vector<Diagnostic>& diagnostics) {
    std::string out;
    for (const auto& diagnostic : diagnostics) {
        if (!out.empty()) {
            out += '\n';
        }
        out += diagnostic.str();
    }
    return out;
}

/// A file in the chain of includes being read: as the user would name it, and as the file
/// system knows it (so `a.yaml` and `./dir/../a.yaml` are the same file).
struct Link {
    fs::path shown;
    fs::path identity;
};

fs::path identity_of(const fs::path& file) {
    std::error_code error;
    auto canonical = fs::weakly_canonical(fs::absolute(file), error);
    return error ? fs::absolute(file).lexically_normal() : canonical;
}

template <typename T>
void append(std::vector<T>& to, std::vector<T>&& from) {
    to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

void merge_config(ImageConfig& out, ImageConfig&& over) {
    const auto set = [&](const char* key) {
        return over.values.contains(key);
    };
    if (set("entrypoint")) {
        out.entrypoint = std::move(over.entrypoint);
    }
    if (set("cmd")) {
        out.cmd = std::move(over.cmd);
    }
    if (set("workdir")) {
        out.workdir = std::move(over.workdir);
    }
    if (set("user")) {
        out.user = std::move(over.user);
    }
    if (set("stop-signal")) {
        out.stop_signal = std::move(over.stop_signal);
    }
    for (auto& [name, value] : over.env) {
        out.env.insert_or_assign(name, std::move(value));
    }
    for (auto& [name, value] : over.labels) {
        out.labels.insert_or_assign(name, std::move(value));
    }
    // Ports are appended, so the including file's `ports.N` positions move up by the base's
    // count; every other position keeps its name and the including file's wins.
    const std::size_t base_ports = out.ports.size();
    for (auto& [key, where] : over.values) {
        std::string_view name = key;
        if (name.starts_with("ports.")) {
            const auto index = std::stoul(std::string(name.substr(6)));
            out.values.insert_or_assign(fmt::format("ports.{}", base_ports + index), where);
        } else {
            out.values.insert_or_assign(key, where);
        }
    }
    append(out.ports, std::move(over.ports));
}

/// `over` (the including manifest) laid on top of `base` (the manifest it includes).
Manifest merge(Manifest base, Manifest over) {
    Manifest out = std::move(base);
    const auto set = [&](const char* key) {
        return over.keys.contains(key);
    };
    out.path = over.path;
    out.included.push_back(over.path);
    if (set("name")) {
        out.name = std::move(over.name);
    }
    if (set("distro")) {
        out.distro = over.distro;
    }
    if (set("release")) {
        out.release = std::move(over.release);
    }
    if (set("archs")) {
        out.archs = std::move(over.archs);
    }
    if (set("sources")) {
        out.sources = std::move(over.sources);
    }
    // A package the including manifest names again replaces the base's request (a new pin,
    // say) instead of being asked for twice.
    std::erase_if(out.packages, [&](const PackageRequest& inherited) {
        return std::any_of(over.packages.begin(), over.packages.end(),
                           [&](const PackageRequest& mine) { return mine.name == inherited.name; });
    });
    append(out.packages, std::move(over.packages));
    append(out.exclude, std::move(over.exclude));
    append(out.allow, std::move(over.allow));
    append(out.paths.include, std::move(over.paths.include));
    append(out.paths.exclude, std::move(over.paths.exclude));
    append(out.paths.setuid, std::move(over.paths.setuid));
    append(out.certificates, std::move(over.certificates));
    append(out.variants, std::move(over.variants));
    append(out.runtime.allow_syscalls, std::move(over.runtime.allow_syscalls));
    append(out.runtime.capabilities, std::move(over.runtime.capabilities));
    append(out.runtime.writable_paths, std::move(over.runtime.writable_paths));
    append(out.accounts, std::move(over.accounts));
    append(out.files, std::move(over.files));
    merge_config(out.config, std::move(over.config));
    for (auto& [key, where] : over.keys) {
        out.keys.insert_or_assign(key, std::move(where));
    }
    for (auto& [key, where] : over.values) {
        out.values.insert_or_assign(key, std::move(where));
    }
    return out;
}

class Loader {
public:
    Loader(std::vector<Diagnostic>& diagnostics, std::string_view example_release)
        : m_diagnostics(diagnostics)
        , m_example_release(example_release) {}

    /// Reads `file` and, first, the manifest it includes. `file` is known to be a regular file
    /// unless it is the top manifest.
    Manifest load(const fs::path& file) {
        std::string text;
        try {
            text = detail::read_manifest_text(file);
        } catch (const Error& e) {
            // The error names the path, which the diagnostic's location already shows.
            std::string_view reason = e.what();
            const std::string prefix = file.string() + ": ";
            if (reason.starts_with(prefix)) {
                reason.remove_prefix(prefix.size());
            }
            report(Location{file, 0, 0}, fmt::format("cannot read the manifest: {}", reason));
            Manifest empty;
            empty.path = file;
            empty.included = {file};
            return empty;
        }
        auto layer = detail::read_layer(file, text, m_example_release, m_diagnostics);
        if (!layer.include) {
            return std::move(layer.manifest);
        }
        m_chain.push_back(Link{file, identity_of(file)});
        auto base = include(file, *layer.include);
        m_chain.pop_back();
        return base ? merge(std::move(*base), std::move(layer.manifest))
                    : std::move(layer.manifest);
    }

private:
    std::optional<Manifest> include(const fs::path& from, const Located& include) {
        if (include.value.empty()) {
            report(include.where, "`include` is empty",
                   "name a manifest, e.g. `include: base.yaml`");
            return std::nullopt;
        }
        const fs::path target = (from.parent_path() / include.value).lexically_normal();
        std::error_code error;
        const auto status = fs::status(target, error);
        if (!fs::exists(status)) {
            report(include.where, fmt::format("included manifest `{}` not found", include.value),
                   fmt::format("looked for {}; the path is relative to the including manifest",
                               target.string()));
            return std::nullopt;
        }
        if (!fs::is_regular_file(status)) {
            report(include.where,
                   fmt::format("included manifest `{}` is not a file", include.value));
            return std::nullopt;
        }
        const fs::path identity = identity_of(target);
        const auto loop = std::find_if(m_chain.begin(), m_chain.end(),
                                       [&](const Link& link) { return link.identity == identity; });
        if (loop != m_chain.end()) {
            std::string cycle;
            for (auto link = loop; link != m_chain.end(); ++link) {
                cycle += link->shown.string() + " -> ";
            }
            cycle += target.string();
            report(include.where, fmt::format("include cycle: {}", cycle),
                   "a manifest cannot include itself, directly or through another manifest");
            return std::nullopt;
        }
        return load(target);
    }

    void report(Location where, std::string message, std::string hint = {}) {
        m_diagnostics.push_back(Diagnostic{std::move(where), std::move(message), std::move(hint)});
    }

    std::vector<Diagnostic>& m_diagnostics;
    std::string_view m_example_release;
    std::vector<Link> m_chain;
};

} // namespace

std::string Location::str() const {
    if (line <= 0) {
        return file.string();
    }
    if (column <= 0) {
        return fmt::format("{}:{}", file.string(), line);
    }
    return fmt::format("{}:{}:{}", file.string(), line, column);
}

std::string Diagnostic::str() const {
    std::string out = fmt::format("{}: {}", where.str(), message);
    if (!hint.empty()) {
        out += fmt::format("\n  hint: {}", hint);
    }
    return out;
}

ManifestError::ManifestError(std::vector<Diagnostic> diagnostics)
    : Error(join_diagnostics(diagnostics), ExitCode::manifest)
    , m_diagnostics(std::move(diagnostics)) {}

std::string to_string(Distro distro) {
    switch (distro) {
    case Distro::debian:
        return "debian";
    case Distro::alpine:
        return "alpine";
    }
    return "unknown";
}

std::optional<Distro> distro_named(std::string_view name) {
    for (const auto distro : {Distro::debian, Distro::alpine}) {
        if (to_string(distro) == name) {
            return distro;
        }
    }
    return std::nullopt;
}

Manifest parse(const std::filesystem::path& path, std::string_view example_release) {
    std::vector<Diagnostic> diagnostics;
    Loader loader(diagnostics, example_release);
    auto manifest = loader.load(path.lexically_normal());
    if (!diagnostics.empty()) {
        throw ManifestError(std::move(diagnostics));
    }
    return manifest;
}

const std::vector<Account>& builtin_accounts() {
    static const std::vector<Account> accounts = [] {
        const auto make = [](const char* name, std::uint32_t id, const char* home) {
            Account account;
            account.name = name;
            account.uid = id;
            account.gid = id;
            account.home = home;
            account.shell = "/sbin/nologin";
            return account;
        };
        // nobody's home is the conventional directory that must not exist.
        return std::vector<Account>{make("root", 0, "/root"),
                                    make("nonroot", 65532, "/home/nonroot"),
                                    make("nobody", 65534, "/nonexistent")};
    }();
    return accounts;
}

std::vector<std::string> default_suites(Distro distro, const std::string& release) {
    std::vector<std::string> suites;
    for (const auto suffix : distro::facts(distro).suite_suffixes) {
        suites.push_back(release + std::string(suffix));
    }
    return suites;
}

Manifest with_defaults(Manifest manifest) {
    if (manifest.sources.empty()) {
        Source source;
        source.where = Location{manifest.path, 0, 0};
        manifest.sources.push_back(std::move(source));
    }
    for (auto& source : manifest.sources) {
        if (source.suites.empty()) {
            source.suites = default_suites(manifest.distro, manifest.release);
            source.suites_from_release = true;
        }
        if (source.components.empty()) {
            source.components = {std::string(distro::facts(manifest.distro).default_component)};
        }
    }
    for (auto& account : manifest.accounts) {
        if (!account.gid) {
            account.gid = account.uid;
        }
        if (account.home.empty()) {
            account.home = account.uid == 0 ? "/root" : "/home/" + account.name;
        }
        if (account.shell.empty()) {
            account.shell = "/sbin/nologin";
        }
    }
    auto& config = manifest.config;
    if (config.workdir.empty()) {
        config.workdir = "/";
    }
    if (config.user.empty()) {
        config.user = "nonroot";
    }
    config.env.try_emplace("PATH", k_default_path);
    return manifest;
}

} // namespace distill::manifest
