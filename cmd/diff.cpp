#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <distill/core/text.hpp>
#include <distill/diff/diff.hpp>

#include "cli.hpp"

namespace distill::cli {
namespace {

const char* kind_name(diff::PackageChange::Kind kind) {
    switch (kind) {
    case diff::PackageChange::Kind::added:
        return "added";
    case diff::PackageChange::Kind::removed:
        return "removed";
    case diff::PackageChange::Kind::upgraded:
        return "upgraded";
    case diff::PackageChange::Kind::downgraded:
        return "downgraded";
    }
    return "?";
}

std::string signed_size(std::uint64_t before, std::uint64_t after) {
    return after >= before ? "+" + core::human_size(after - before)
                           : "-" + core::human_size(before - after);
}

/// "openssl 3.0.15-1~deb12u1 → 3.0.17-1~deb12u2: CVE-2025-1, CVE-2025-2; closes #123"
std::string change_line(const diff::PackageChange& change) {
    using Kind = diff::PackageChange::Kind;
    switch (change.kind) {
    case Kind::added:
        return fmt::format("{} {}", change.name, change.new_version);
    case Kind::removed:
        return fmt::format("{} {}", change.name, change.old_version);
    default:
        break;
    }
    std::string line =
        fmt::format("{} {} \u2192 {}", change.name, change.old_version, change.new_version);
    std::vector<std::string> notes;
    if (!change.cves.empty()) {
        notes.push_back(fmt::format("{}", fmt::join(change.cves, ", ")));
    }
    if (!change.bugs.empty()) {
        std::vector<std::string> bugs;
        for (const auto& bug : change.bugs) {
            bugs.push_back("#" + bug);
        }
        notes.push_back(fmt::format("closes {}", fmt::join(bugs, ", ")));
    }
    if (!change.changelog_note.empty()) {
        notes.push_back(fmt::format("(changelog not read: {})", change.changelog_note));
    } else if (change.kind == Kind::upgraded && notes.empty()) {
        notes.emplace_back("no CVE or closed bug in the changelog");
    }
    return notes.empty() ? line : fmt::format("{}: {}", line, fmt::join(notes, "; "));
}

void print_text(const diff::Diff& d) {
    if (d.empty()) {
        fmt::print("no change between {} and {}\n", d.before, d.after);
        return;
    }
    for (const auto& arch : d.archs) {
        std::size_t counts[4] = {0, 0, 0, 0};
        for (const auto& change : arch.packages) {
            ++counts[static_cast<int>(change.kind)];
        }
        fmt::print("{}: {} upgraded, {} added, {} removed{}; size {} \u2192 {} ({})\n", arch.arch,
                   counts[2], counts[0], counts[1],
                   counts[3] > 0 ? fmt::format(", {} downgraded", counts[3]) : "",
                   core::human_size(arch.size_before), core::human_size(arch.size_after),
                   signed_size(arch.size_before, arch.size_after));
        for (const auto& change : arch.packages) {
            fmt::print("  {:<10} {}\n", kind_name(change.kind), change_line(change));
        }
        if (arch.has_files) {
            fmt::print("  files: {} added, {} removed, {} changed\n", arch.files_added.size(),
                       arch.files_removed.size(), arch.files_changed.size());
            const auto list = [](const char* what, const std::vector<std::string>& paths) {
                for (std::size_t i = 0; i < paths.size() && i < 20; ++i) {
                    fmt::print("    {:<8} /{}\n", what, paths[i]);
                }
                if (paths.size() > 20) {
                    fmt::print("    ... and {} more\n", paths.size() - 20);
                }
            };
            list("added", arch.files_added);
            list("removed", arch.files_removed);
            list("changed", arch.files_changed);
        }
    }
}

nlohmann::json to_json(const diff::Diff& d) {
    nlohmann::json archs = nlohmann::json::array();
    for (const auto& arch : d.archs) {
        nlohmann::json packages = nlohmann::json::array();
        for (const auto& change : arch.packages) {
            nlohmann::json item{{"change", kind_name(change.kind)}, {"name", change.name}};
            if (!change.old_version.empty()) {
                item["from"] = change.old_version;
            }
            if (!change.new_version.empty()) {
                item["to"] = change.new_version;
            }
            if (change.kind == diff::PackageChange::Kind::upgraded) {
                item["cves"] = change.cves;
                item["closes"] = change.bugs;
                item["changelog_versions"] = change.changelog_versions;
                if (!change.changelog_note.empty()) {
                    item["changelog_note"] = change.changelog_note;
                }
            }
            packages.push_back(std::move(item));
        }
        nlohmann::json out{{"arch", arch.arch},
                           {"packages", std::move(packages)},
                           {"size", {{"before", arch.size_before}, {"after", arch.size_after}}}};
        if (arch.has_files) {
            out["files"] = {{"added", arch.files_added},
                            {"removed", arch.files_removed},
                            {"changed", arch.files_changed}};
        }
        archs.push_back(std::move(out));
    }
    nlohmann::json out{{"before", d.before},
                       {"after", d.after},
                       {"changed", !d.empty()},
                       {"archs", std::move(archs)}};
    if (!d.digest_before.empty() || !d.digest_after.empty()) {
        out["digest"] = {{"before", d.digest_before}, {"after", d.digest_after}};
    }
    return out;
}

} // namespace

void add_diff_command(CLI::App& app, const GlobalOptions& globals, int& exit_code) {
    struct Options {
        std::string before;
        std::string after;
        bool json = false;
    };
    auto options = std::make_shared<Options>();
    auto* command = app.add_subcommand(
        "diff", "What changed between two locks or two images, and which CVEs that fixes");
    command->add_option("before", options->before, "The older lockfile or OCI image layout")
        ->required();
    command->add_option("after", options->after, "The newer lockfile or OCI image layout")
        ->required();
    command->add_flag("--json", options->json, "Print the difference as JSON on stdout");
    command->footer(
        R"(Lists the packages added, removed and upgraded (old -> new version), the change
in size, and for two images the files added, removed and changed. For every
upgraded package, the changelog.Debian.gz of the new version is read from its
.deb (from the cache, or downloaded and verified when a lock names it; images
never need to ship changelogs) and the CVE identifiers and closed Debian bugs of
the entries between the two versions are listed:

  upgraded   libssl3 3.0.15-1~deb12u1 -> 3.0.17-1~deb12u2: CVE-2025-9230, CVE-2025-9231

Alpine packages carry no changelog: their upgrades are listed with a note saying so.

Examples:
  distill diff yesterday.lock manifests/java17.lock
  distill diff --json out/java17.old out/java17)");
    command->callback([options, &globals, &exit_code] {
        CliReporter reporter(globals);
        const pipeline::Session session(session_options(globals), reporter);
        const auto before = diff::load(options->before);
        const auto after = diff::load(options->after);
        const auto d = diff::compare(before, after, session.cache(), reporter);
        if (options->json) {
            fmt::print("{}\n", to_json(d).dump(2));
        } else {
            print_text(d);
        }
        exit_code = 0;
    });
}

} // namespace distill::cli
