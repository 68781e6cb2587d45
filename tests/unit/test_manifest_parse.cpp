#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <distill/distro/distro.hpp>
#include <distill/manifest/manifest.hpp>

#include "support.hpp"

namespace distill::manifest {
namespace {

using distro::validate;

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string dump(const std::vector<Diagnostic>& diagnostics) {
    std::string out;
    for (const auto& diagnostic : diagnostics) {
        out += diagnostic.str() + "\n";
    }
    return out;
}

std::vector<std::string> values_of(const std::vector<Located>& located) {
    std::vector<std::string> out;
    for (const auto& item : located) {
        out.push_back(item.value);
    }
    return out;
}

std::vector<std::string> names_of(const std::vector<PackageRequest>& packages) {
    std::vector<std::string> out;
    for (const auto& package : packages) {
        out.push_back(package.version.empty() ? package.name
                                              : package.name + "=" + package.version);
    }
    return out;
}

class ManifestParse : public test::ScratchTest {
protected:
    /// The diagnostics parse() throws for `path`; a test failure if it throws none.
    static std::vector<Diagnostic> errors(const fs::path& path) {
        try {
            (void)parse(path, distro::get(Distro::debian).example_release());
        } catch (const ManifestError& e) {
            return e.diagnostics();
        }
        ADD_FAILURE() << "parse() accepted " << path;
        return {};
    }

    /// The single diagnostic parse() reports for `yaml`, checked for position and text.
    void expect_one(const std::string& yaml, int line, int column, const std::string& message,
                    const std::string& hint = {}) const {
        const auto path = write("manifest.yaml", yaml);
        const auto diagnostics = errors(path);
        ASSERT_EQ(diagnostics.size(), 1U) << dump(diagnostics);
        const auto& diagnostic = diagnostics.front();
        EXPECT_EQ(diagnostic.where.file, path);
        EXPECT_EQ(diagnostic.where.line, line) << diagnostic.str();
        EXPECT_EQ(diagnostic.where.column, column) << diagnostic.str();
        EXPECT_THAT(diagnostic.message, HasSubstr(message));
        EXPECT_THAT(diagnostic.hint, HasSubstr(hint));
    }
};

constexpr const char* k_full = R"(name: web-app
distro: debian
release: bookworm
archs: [amd64, arm64]
sources:
  - url: https://deb.example.org/debian
    suites: [bookworm, bookworm-updates]
    components: [main, contrib]
    keyring: keys/../keys/archive.gpg
packages:
  - ca-certificates
  - libssl3=3.0.11-1~deb12u2
exclude: [perl-base]
allow: [dash]
paths:
  include: ["/usr/share/zoneinfo/**"]
  exclude: ["/usr/share/doc/**", "/usr/share/man/**"]
accounts:
  - name: app
    uid: 1000
    gid: 1001
    home: /srv/app
    shell: /bin/false
config:
  entrypoint: [/usr/bin/app, --serve]
  cmd: --port=8080
  env:
    TZ: UTC
    APP_MODE: production
  workdir: /srv/app
  user: app
  labels:
    org.opencontainers.image.title: web-app
  ports: [8080/tcp, "53/udp"]
  stop-signal: SIGINT
files:
  - src: conf/app.conf
    dst: /etc/app.conf
    mode: "0600"
    uid: 1000
    gid: 1001
  - src: /etc/hostname
    dst: /etc/motd
    mode: 755
)";

TEST_F(ManifestParse, FullManifestFillsEveryField) {
    const auto path = write("web.yaml", k_full);
    const Manifest m = parse(path);

    EXPECT_EQ(m.path, path);
    EXPECT_THAT(m.included, ElementsAre(path));
    EXPECT_EQ(m.name, "web-app");
    EXPECT_EQ(m.distro, Distro::debian);
    EXPECT_EQ(m.release, "bookworm");
    EXPECT_THAT(values_of(m.archs), ElementsAre("amd64", "arm64"));
    EXPECT_EQ(m.archs[1].where.line, 4);
    EXPECT_EQ(m.archs[1].where.column, 16);

    ASSERT_EQ(m.sources.size(), 1U);
    const Source& source = m.sources[0];
    EXPECT_EQ(source.url, "https://deb.example.org/debian");
    EXPECT_THAT(source.suites, ElementsAre("bookworm", "bookworm-updates"));
    EXPECT_THAT(source.components, ElementsAre("main", "contrib"));
    EXPECT_EQ(source.keyring, scratch() / "keys" / "archive.gpg");
    EXPECT_EQ(source.where.line, 6);
    EXPECT_EQ(source.where.column, 5);
    EXPECT_EQ(source.values.at("components.1").column, 24);

    EXPECT_THAT(names_of(m.packages), ElementsAre("ca-certificates", "libssl3=3.0.11-1~deb12u2"));
    EXPECT_EQ(m.packages[1].name, "libssl3");
    EXPECT_EQ(m.packages[1].version, "3.0.11-1~deb12u2");
    EXPECT_EQ(m.packages[1].where.line, 12);
    EXPECT_EQ(m.packages[1].where.column, 5);
    EXPECT_THAT(values_of(m.exclude), ElementsAre("perl-base"));
    EXPECT_THAT(values_of(m.allow), ElementsAre("dash"));
    EXPECT_THAT(values_of(m.paths.include), ElementsAre("/usr/share/zoneinfo/**"));
    EXPECT_THAT(values_of(m.paths.exclude), ElementsAre("/usr/share/doc/**", "/usr/share/man/**"));

    ASSERT_EQ(m.accounts.size(), 1U);
    const Account& account = m.accounts[0];
    EXPECT_EQ(account.name, "app");
    EXPECT_EQ(account.uid, 1000U);
    EXPECT_EQ(account.gid, 1001U);
    EXPECT_EQ(account.home, "/srv/app");
    EXPECT_EQ(account.shell, "/bin/false");
    EXPECT_EQ(account.where.line, 19);
    EXPECT_EQ(account.values.at("uid").line, 20);
    EXPECT_EQ(account.values.at("uid").column, 10);

    const ImageConfig& config = m.config;
    EXPECT_THAT(config.entrypoint, ElementsAre("/usr/bin/app", "--serve"));
    EXPECT_THAT(config.cmd, ElementsAre("--port=8080"));
    EXPECT_EQ(config.env,
              (std::map<std::string, std::string>{{"APP_MODE", "production"}, {"TZ", "UTC"}}));
    EXPECT_EQ(config.workdir, "/srv/app");
    EXPECT_EQ(config.user, "app");
    EXPECT_EQ(config.labels,
              (std::map<std::string, std::string>{{"org.opencontainers.image.title", "web-app"}}));
    EXPECT_THAT(config.ports, ElementsAre("8080/tcp", "53/udp"));
    EXPECT_EQ(config.stop_signal, "SIGINT");
    EXPECT_EQ(config.values.at("env.APP_MODE").line, 29);
    EXPECT_EQ(config.values.at("env.APP_MODE").column, 5);
    EXPECT_EQ(config.values.at("ports.1").column, 21); // the quote

    ASSERT_EQ(m.files.size(), 2U);
    EXPECT_EQ(m.files[0].source, scratch() / "conf" / "app.conf");
    EXPECT_EQ(m.files[0].destination, "/etc/app.conf");
    EXPECT_EQ(m.files[0].mode, 0600U);
    EXPECT_EQ(m.files[0].uid, 1000U);
    EXPECT_EQ(m.files[0].gid, 1001U);
    EXPECT_EQ(m.files[1].source, fs::path("/etc/hostname"));
    EXPECT_EQ(m.files[1].mode, 0755U);
    EXPECT_EQ(m.files[1].uid, 0U);

    EXPECT_EQ(m.keys.size(), 12U);
    EXPECT_EQ(m.keys.at("config").line, 24);
    EXPECT_EQ(m.keys.at("config").column, 1);
    EXPECT_EQ(m.values.at("release").column, 10);
}

TEST_F(ManifestParse, LeavesUnsetOptionalFieldsEmpty) {
    const Manifest m = parse(write("m.yaml", "name: tiny\ndistro: alpine\nrelease: v3.19\n"
                                             "accounts: [{name: app, uid: 1000}]\n"
                                             "files: [{src: a, dst: /a}]\n"));
    EXPECT_EQ(m.distro, Distro::alpine);
    EXPECT_TRUE(m.archs.empty());
    EXPECT_TRUE(m.sources.empty());
    EXPECT_FALSE(m.accounts[0].gid.has_value());
    EXPECT_TRUE(m.accounts[0].home.empty());
    EXPECT_EQ(m.files[0].mode, 0644U);
    EXPECT_TRUE(m.config.user.empty());
    EXPECT_TRUE(m.config.workdir.empty());
    EXPECT_TRUE(m.config.env.empty());
}

TEST_F(ManifestParse, EmptyListsAndAFinalDocumentMarkerAreAccepted) {
    const Manifest m = parse(write("m.yaml", "name: x\ndistro: debian\nrelease: bookworm\n"
                                             "packages:\n# - curl\nexclude: []\n---\n"));
    EXPECT_TRUE(m.packages.empty());
    EXPECT_TRUE(m.exclude.empty());
    EXPECT_TRUE(m.keys.contains("packages"));
}

TEST_F(ManifestParse, WithDefaultsFillsWhatDoesNotDependOnTheHost) {
    const Manifest m = with_defaults(parse(
        write("m.yaml", "name: x\ndistro: debian\nrelease: bookworm\nsources: [{url: file:///r}]\n"
                        "accounts: [{name: app, uid: 1000}]\nconfig: {env: {TZ: UTC}}\n")));
    EXPECT_THAT(m.sources[0].suites,
                ElementsAre("bookworm", "bookworm-updates", "bookworm-security"));
    EXPECT_THAT(m.sources[0].components, ElementsAre("main"));
    EXPECT_EQ(m.accounts[0].gid, 1000U);
    EXPECT_EQ(m.accounts[0].home, "/home/app");
    EXPECT_EQ(m.accounts[0].shell, "/sbin/nologin");
    EXPECT_EQ(m.config.user, "nonroot");
    EXPECT_EQ(m.config.workdir, "/");
    EXPECT_EQ(m.config.env.at("PATH"), k_default_path);
    EXPECT_EQ(m.config.env.at("TZ"), "UTC");
    EXPECT_THAT(default_suites(Distro::alpine, "v3.19"), ElementsAre("v3.19"));
}

TEST_F(ManifestParse, BuiltinAccountsAreRootNonrootNobody) {
    const auto& accounts = builtin_accounts();
    ASSERT_EQ(accounts.size(), 3U);
    EXPECT_EQ(accounts[0].name, "root");
    EXPECT_EQ(accounts[0].uid, 0U);
    EXPECT_EQ(accounts[1].name, "nonroot");
    EXPECT_EQ(accounts[1].uid, 65532U);
    EXPECT_EQ(accounts[2].name, "nobody");
    EXPECT_EQ(accounts[2].uid, 65534U);
}

// --- include ------------------------------------------------------------------------------

constexpr const char* k_base = R"(name: base
distro: debian
release: bookworm
archs: [amd64]
sources:
  - url: https://deb.example.org/debian
    keyring: archive.gpg
packages: [ca-certificates, tzdata]
exclude: [perl-base]
allow: [dash]
paths:
  exclude: ["/usr/share/doc/**"]
accounts:
  - {name: svc, uid: 2000}
config:
  entrypoint: [/bin/base]
  cmd: [--base]
  env: {TZ: UTC, LANG: C.UTF-8}
  labels: {vendor: base}
  user: svc
  workdir: /base
  ports: ["80"]
  stop-signal: SIGTERM
files:
  - {src: motd, dst: /etc/motd}
)";

constexpr const char* k_app = R"(include: base/common.yaml
name: app
archs: [arm64]
packages: [curl]
exclude: [bash]
paths:
  include: ["/usr/share/zoneinfo/UTC"]
accounts:
  - {name: web, uid: 3000}
config:
  entrypoint: /usr/bin/app
  env: {TZ: Europe/Paris, APP: "1"}
  labels: {app: web}
  ports: [443/tcp]
  user: web
files:
  - {src: app.conf, dst: /etc/app.conf}
)";

TEST_F(ManifestParse, IncludeMergesTheIncludingManifestOverItsBase) {
    const auto base = write("base/common.yaml", k_base);
    const auto app = write("app.yaml", k_app);
    const Manifest m = parse(app);

    EXPECT_EQ(m.path, app);
    EXPECT_THAT(m.included, ElementsAre(base, app));
    // Scalars: the including manifest wins where it sets them.
    EXPECT_EQ(m.name, "app");
    EXPECT_EQ(m.distro, Distro::debian);
    EXPECT_EQ(m.release, "bookworm");
    EXPECT_EQ(m.values.at("name").file, app);
    EXPECT_EQ(m.values.at("release").file, base);
    // archs and sources are replaced when set, kept otherwise.
    EXPECT_THAT(values_of(m.archs), ElementsAre("arm64"));
    ASSERT_EQ(m.sources.size(), 1U);
    EXPECT_EQ(m.sources[0].keyring, scratch() / "base" / "archive.gpg");
    // Lists append, base first.
    EXPECT_THAT(names_of(m.packages), ElementsAre("ca-certificates", "tzdata", "curl"));
    EXPECT_EQ(m.packages[0].where.file, base);
    EXPECT_EQ(m.packages[2].where.file, app);
    EXPECT_THAT(values_of(m.exclude), ElementsAre("perl-base", "bash"));
    EXPECT_THAT(values_of(m.allow), ElementsAre("dash"));
    EXPECT_THAT(values_of(m.paths.exclude), ElementsAre("/usr/share/doc/**"));
    EXPECT_THAT(values_of(m.paths.include), ElementsAre("/usr/share/zoneinfo/UTC"));
    ASSERT_EQ(m.accounts.size(), 2U);
    EXPECT_EQ(m.accounts[0].name, "svc");
    EXPECT_EQ(m.accounts[1].name, "web");
    // Files resolve relative to the manifest that names them.
    ASSERT_EQ(m.files.size(), 2U);
    EXPECT_EQ(m.files[0].source, scratch() / "base" / "motd");
    EXPECT_EQ(m.files[1].source, scratch() / "app.conf");
    // Config: entrypoint replaced, cmd kept, maps merged (including wins), ports appended.
    EXPECT_THAT(m.config.entrypoint, ElementsAre("/usr/bin/app"));
    EXPECT_THAT(m.config.cmd, ElementsAre("--base"));
    EXPECT_EQ(m.config.env, (std::map<std::string, std::string>{
                                {"APP", "1"}, {"LANG", "C.UTF-8"}, {"TZ", "Europe/Paris"}}));
    EXPECT_EQ(m.config.labels,
              (std::map<std::string, std::string>{{"app", "web"}, {"vendor", "base"}}));
    EXPECT_THAT(m.config.ports, ElementsAre("80", "443/tcp"));
    EXPECT_EQ(m.config.values.at("ports.0").file, base);
    EXPECT_EQ(m.config.values.at("ports.1").file, app);
    EXPECT_EQ(m.config.values.at("ports.1").line, 14);
    EXPECT_EQ(m.config.user, "web");
    EXPECT_EQ(m.config.workdir, "/base");
    EXPECT_EQ(m.config.stop_signal, "SIGTERM");
    EXPECT_EQ(m.keys.at("include").file, app);
    EXPECT_EQ(m.keys.at("distro").file, base);
}

TEST_F(ManifestParse, IncludesNestAndListTheDeepestBaseFirst) {
    const auto c = write("c.yaml", "distro: alpine\nrelease: v3.18\npackages: [musl]\n");
    const auto b = write("sub/b.yaml", "include: ../c.yaml\nrelease: v3.19\npackages: [busybox]\n"
                                       "sources: [{url: https://one.example.org/alpine}]\n");
    const auto a = write("a.yaml", "include: sub/b.yaml\nname: top\n"
                                   "sources: [{url: https://two.example.org/alpine}]\n");
    const Manifest m = parse(a);
    EXPECT_THAT(m.included, ElementsAre(c, b, a));
    EXPECT_EQ(m.distro, Distro::alpine);
    EXPECT_EQ(m.release, "v3.19");
    EXPECT_EQ(m.name, "top");
    EXPECT_THAT(names_of(m.packages), ElementsAre("musl", "busybox"));
    ASSERT_EQ(m.sources.size(), 1U);
    EXPECT_EQ(m.sources[0].url, "https://two.example.org/alpine");
}

// --- bad input: one test per kind of problem ------------------------------------------------

TEST_F(ManifestParse, YamlSyntaxErrorIsReportedAtItsMark) {
    expect_one("name: x\npackages: [curl, bash\ndistro: debian\n", 3, 7, "YAML syntax error");
}

TEST_F(ManifestParse, UnknownTopLevelKeySuggestsTheClosest) {
    expect_one("name: x\npakages: [curl]\n", 2, 1, "unknown key `pakages`",
               "did you mean `packages`?");
}

TEST_F(ManifestParse, UnknownNestedKeySuggestsTheClosest) {
    expect_one("config:\n  user: app\n  stopsignal: SIGTERM\n", 3, 3,
               "unknown key `stopsignal` in `config`", "did you mean `stop-signal`?");
}

TEST_F(ManifestParse, UnknownKeyFarFromAnyListsTheKnownOnes) {
    expect_one("sources:\n  - url: file:///r\n    mirror: x\n", 3, 5, "unknown key `mirror`",
               "known keys here: url, suites, components, keyring");
}

TEST_F(ManifestParse, ScalarWhereAListIsExpectedShowsTheListForm) {
    expect_one("name: x\narchs: amd64\n", 2, 8, "`archs` must be a list of strings, not a string",
               "write it as a list: `archs: [amd64]`");
}

TEST_F(ManifestParse, ListWhereAStringIsExpectedNamesTheType) {
    expect_one("name: [a, b]\n", 1, 7, "`name` must be a string, not a list");
}

TEST_F(ManifestParse, ConfigMustBeAMap) {
    expect_one("config: [user]\n", 1, 9, "`config` must be a map, not a list");
}

TEST_F(ManifestParse, EnvValueMustBeAString) {
    expect_one("config:\n  env:\n    A: [1]\n", 3, 8, "`A` in `env` must be a string, not a list");
}

TEST_F(ManifestParse, EmptyValueIsReportedAtItsKey) {
    expect_one("name: x\nrelease:\ndistro: debian\n", 2, 1, "`release` has no value",
               "`release: bookworm`");
}

TEST_F(ManifestParse, DuplicateKeyIsReportedAtTheSecond) {
    expect_one("name: a\ndistro: debian\nname: b\n", 3, 1, "duplicate key `name`",
               "already set at line 1, column 1");
}

TEST_F(ManifestParse, UnknownDistroListsTheKnownOnes) {
    expect_one("distro: ubuntu\n", 1, 9, "unknown distro `ubuntu`",
               "distro is one of: debian, alpine");
}

TEST_F(ManifestParse, MisspelledDistroSuggestsTheClosest) {
    expect_one("distro: debain\n", 1, 9, "unknown distro `debain`", "did you mean `debian`?");
}

TEST_F(ManifestParse, NonIntegerUidIsRejected) {
    expect_one("accounts:\n  - name: app\n    uid: 1e3\n", 3, 10,
               "`uid` must be a whole number from 0 to 4294967295, not `1e3`");
}

TEST_F(ManifestParse, NegativeGidIsRejected) {
    expect_one("files:\n  - {src: a, dst: /a, gid: -1}\n", 2, 28, "`gid` must be a whole number");
}

TEST_F(ManifestParse, BadOctalModeIsRejected) {
    expect_one("files:\n  - src: a\n    dst: /a\n    mode: \"0789\"\n", 4, 11,
               "`mode` must be an octal mode, not `0789`", "`mode: \"0755\"`");
}

TEST_F(ManifestParse, AccountWithoutUidIsRejected) {
    expect_one("accounts:\n  - name: app\n    home: /srv\n", 2, 5, "account `app` has no `uid`");
}

TEST_F(ManifestParse, FileWithoutDstIsRejected) {
    expect_one("files:\n  - src: a\n", 2, 5, "file has no `dst`");
}

TEST_F(ManifestParse, PinWithoutVersionIsRejected) {
    expect_one("packages:\n  - curl\n  - bash=\n", 3, 5, "pin `bash=` has no version",
               "write `bash` for the best version");
}

TEST_F(ManifestParse, DocumentMustBeAMap) {
    expect_one("- name: x\n", 1, 1, "a manifest must be a map of keys, not a list");
}

TEST_F(ManifestParse, SecondDocumentIsRejected) {
    expect_one("name: a\n---\nname: b\n", 3, 1, "a manifest is a single YAML document");
}

TEST_F(ManifestParse, EmptyListEntryIsRejected) {
    expect_one("packages:\n  - curl\n  -\n  - bash\n", 2, 3, "`packages` has an empty entry");
}

TEST_F(ManifestParse, MissingIncludeIsReportedAtTheIncludeValue) {
    expect_one("name: x\ninclude: base.yaml\n", 2, 10, "included manifest `base.yaml` not found",
               "relative to the including manifest");
}

TEST_F(ManifestParse, IncludeCycleNamesTheChain) {
    const auto a = write("a.yaml", "include: b.yaml\nname: a\n");
    const auto b = write("b.yaml", "name: b\ninclude: ./a.yaml\n");
    const auto diagnostics = errors(a);
    ASSERT_EQ(diagnostics.size(), 1U) << dump(diagnostics);
    EXPECT_EQ(diagnostics[0].where.file, b);
    EXPECT_EQ(diagnostics[0].where.line, 2);
    EXPECT_EQ(diagnostics[0].where.column, 10);
    EXPECT_EQ(diagnostics[0].message,
              "include cycle: " + a.string() + " -> " + b.string() + " -> " + a.string());
}

TEST_F(ManifestParse, SelfIncludeIsACycle) {
    expect_one("include: manifest.yaml\n", 1, 10, "include cycle:");
}

TEST_F(ManifestParse, ProblemsInAnIncludedFileNameThatFile) {
    const auto base = write("base.yaml", "name: x\nrelese: bookworm\n");
    const auto diagnostics = errors(write("top.yaml", "include: base.yaml\n"));
    ASSERT_EQ(diagnostics.size(), 1U) << dump(diagnostics);
    EXPECT_EQ(diagnostics[0].where.file, base);
    EXPECT_EQ(diagnostics[0].where.line, 2);
    EXPECT_EQ(diagnostics[0].where.column, 1);
    EXPECT_EQ(diagnostics[0].hint, "did you mean `release`?");
}

TEST_F(ManifestParse, MissingManifestIsAManifestError) {
    const auto path = scratch() / "absent.yaml";
    const auto diagnostics = errors(path);
    ASSERT_EQ(diagnostics.size(), 1U);
    EXPECT_EQ(diagnostics[0].where.file, path);
    EXPECT_EQ(diagnostics[0].where.line, 0);
    EXPECT_THAT(diagnostics[0].message, HasSubstr("cannot read the manifest"));
}

TEST_F(ManifestParse, EveryProblemIsReportedAtOnce) {
    const auto path = write("m.yaml", R"(name: x
distro: debain
relase: bookworm
archs: amd64
config:
  user: app
  user: root
files:
  - {src: a, dst: /a, mode: rwx}
)");
    const auto diagnostics = errors(path);
    ASSERT_EQ(diagnostics.size(), 5U) << dump(diagnostics);
    const std::vector<std::pair<int, int>> expected{{2, 9}, {3, 1}, {4, 8}, {7, 3}, {9, 29}};
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(diagnostics[i].where.line, expected[i].first) << diagnostics[i].str();
        EXPECT_EQ(diagnostics[i].where.column, expected[i].second) << diagnostics[i].str();
    }
}

// --- the error type -----------------------------------------------------------------------------

TEST(ManifestError, WhatListsEveryDiagnosticAndTheExitCodeIsManifest) {
    const ManifestError error({Diagnostic{Location{"m.yaml", 2, 5}, "first", "fix it"},
                               Diagnostic{Location{"m.yaml", 0, 0}, "second", {}}});
    EXPECT_STREQ(error.what(), "m.yaml:2:5: first\n  hint: fix it\nm.yaml: second");
    EXPECT_EQ(error.exit_code(), ExitCode::manifest);
    EXPECT_EQ(error.diagnostics().size(), 2U);
}

TEST(ManifestError, LocationWithoutColumnShowsTheLine) {
    EXPECT_EQ((Location{"m.yaml", 7, 0}).str(), "m.yaml:7");
    EXPECT_EQ(to_string(Distro::debian), "debian");
    EXPECT_EQ(to_string(Distro::alpine), "alpine");
}

} // namespace
} // namespace distill::manifest

namespace distill::manifest {
namespace {

using distro::validate;

class ManifestIncludeOverride : public test::ScratchTest {};

TEST_F(ManifestIncludeOverride, IncludingManifestRepinsABasePackage) {
    write("base.yaml",
          "name: base\ndistro: debian\nrelease: bookworm\npackages: [libc6, libssl3]\n");
    const auto app = write(
        "app.yaml", "include: base.yaml\nname: app\npackages: ['libssl3=3.0.15-1~deb12u1']\n");
    const Manifest m = parse(app);
    ASSERT_EQ(m.packages.size(), 2U);
    EXPECT_EQ(m.packages[0].name, "libc6");
    EXPECT_EQ(m.packages[1].name, "libssl3");
    EXPECT_EQ(m.packages[1].version, "3.0.15-1~deb12u1");
    EXPECT_EQ(m.packages[1].where.file, app);
    validate(m); // the re-pin is not a package requested twice
}

} // namespace
} // namespace distill::manifest
