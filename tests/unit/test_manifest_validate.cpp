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
using ::testing::HasSubstr;

std::string dump(const std::vector<Diagnostic>& diagnostics) {
    std::string out;
    for (const auto& diagnostic : diagnostics) {
        out += diagnostic.str() + "\n";
    }
    return out;
}

// Every manifest below starts with these three lines, so line 4 is the first one under test.
constexpr const char* k_debian = "name: app\ndistro: debian\nrelease: bookworm\n";
constexpr const char* k_alpine = "name: app\ndistro: alpine\nrelease: v3.19\n";

class ManifestValidate : public test::ScratchTest {
protected:
    /// Parses `yaml` (which must parse) and returns what validate() reports.
    std::vector<Diagnostic> errors(const std::string& yaml) const {
        const Manifest manifest = parse(write("manifest.yaml", yaml));
        try {
            validate(manifest);
        } catch (const ManifestError& e) {
            return e.diagnostics();
        }
        ADD_FAILURE() << "validate() accepted:\n" << yaml;
        return {};
    }

    /// Parses and validates `yaml`; a failure names every problem.
    void expect_valid(const std::string& yaml) const {
        const Manifest manifest = parse(write("manifest.yaml", yaml));
        try {
            validate(manifest);
        } catch (const ManifestError& e) {
            ADD_FAILURE() << e.what();
        }
    }

    /// The single diagnostic validate() reports for `yaml`, checked for position and text.
    void expect_one(const std::string& yaml, int line, int column, const std::string& message,
                    const std::string& hint = {}) const {
        const auto diagnostics = errors(yaml);
        ASSERT_EQ(diagnostics.size(), 1U) << dump(diagnostics);
        const auto& diagnostic = diagnostics.front();
        EXPECT_EQ(diagnostic.where.file, scratch() / "manifest.yaml");
        EXPECT_EQ(diagnostic.where.line, line) << diagnostic.str();
        EXPECT_EQ(diagnostic.where.column, column) << diagnostic.str();
        EXPECT_THAT(diagnostic.message, HasSubstr(message));
        EXPECT_THAT(diagnostic.hint, HasSubstr(hint));
    }
};

TEST_F(ManifestValidate, FullDebianManifestIsValid) {
    write("keys/archive.gpg", "not really a key, but a file");
    write("conf/app.conf", "listen = 8080\n");
    expect_valid(std::string(k_debian) +
                 R"(archs: [amd64, arm64, armhf, armel, i386, ppc64el, s390x, riscv64, mips64el]
sources:
  - url: https://deb.example.org/debian
    suites: [bookworm, bookworm-updates]
    components: [main, contrib]
    keyring: keys/archive.gpg
  - url: file:///srv/repo
packages: [ca-certificates, "libssl3=3.0.11-1~deb12u2", libstdc++6, g++-12]
exclude: [perl-base]
allow: [dash]
paths:
  exclude: ["/usr/share/doc/**"]
accounts:
  - {name: app, uid: 1000, home: /srv/app}
  - {name: _svc, uid: 1001, gid: 1000}
  - {name: nonroot, uid: 65532, shell: /bin/false}
config:
  entrypoint: /usr/bin/app
  env: {TZ: UTC, _X1: "1"}
  workdir: /srv/app
  user: app
  ports: ["80", 8080/tcp, 53/udp, "65535"]
  stop-signal: SIGQUIT
files:
  - {src: conf/app.conf, dst: /etc/app.conf, mode: "0600"}
)");
}

TEST_F(ManifestValidate, AlpineNamesAndNumericUsersAndSignalsAreValid) {
    expect_valid(std::string(k_alpine) + R"(archs: [x86_64, aarch64, armv7, armhf, x86, ppc64le]
packages: [py3-Pillow, font_noto]
config:
  user: "65532:65532"
  stop-signal: "15"
)");
    expect_valid(std::string(k_alpine) + "config: {user: '0', stop-signal: WINCH}\n");
}

// --- bad input: one test per kind of problem ------------------------------------------------

TEST_F(ManifestValidate, MissingRequiredKeysAreReportedAtTheTopOfTheFile) {
    const auto diagnostics = errors("packages: [curl]\n");
    ASSERT_EQ(diagnostics.size(), 3U) << dump(diagnostics);
    const std::vector<std::string> keys{"`name`", "`distro`", "`release`"};
    for (std::size_t i = 0; i < keys.size(); ++i) {
        EXPECT_EQ(diagnostics[i].where.line, 1);
        EXPECT_EQ(diagnostics[i].where.column, 1);
        EXPECT_EQ(diagnostics[i].message, "missing required key " + keys[i]);
    }
    EXPECT_THAT(diagnostics[1].hint, HasSubstr("`distro: debian` or `distro: alpine`"));
}

TEST_F(ManifestValidate, EmptyNameIsReportedAtItsValue) {
    expect_one("distro: debian\nrelease: bookworm\nname: ''\n", 3, 7, "`name` is empty");
}

TEST_F(ManifestValidate, ImageNameMustBeLowercase) {
    expect_one("distro: debian\nrelease: bookworm\nname: My_App\n", 3, 7,
               "`My_App` is not a valid image name", "did you mean `my_app`?");
}

TEST_F(ManifestValidate, ImageNameMustStartWithLetterOrDigit) {
    expect_one("distro: debian\nrelease: bookworm\nname: -app\n", 3, 7,
               "`-app` is not a valid image name", "starting with a letter or digit");
}

TEST_F(ManifestValidate, AlpineArchNameOnDebianNamesTheDebianOne) {
    expect_one(std::string(k_debian) + "archs: [arm64, x86_64]\n", 4, 16,
               "unknown debian arch `x86_64`", "x86_64 is Alpine's name; Debian calls it amd64");
}

TEST_F(ManifestValidate, DebianArchNameOnAlpineNamesTheAlpineOne) {
    expect_one(std::string(k_alpine) + "archs:\n  - arm64\n", 5, 5, "unknown alpine arch `arm64`",
               "arm64 is Debian's name; Alpine calls it aarch64");
}

TEST_F(ManifestValidate, MisspelledArchSuggestsTheClosest) {
    expect_one(std::string(k_debian) + "archs: [amd46]\n", 4, 9, "unknown debian arch `amd46`",
               "did you mean `amd64`?");
}

TEST_F(ManifestValidate, ArchListedTwice) {
    expect_one(std::string(k_debian) + "archs: [amd64, amd64]\n", 4, 16,
               "arch `amd64` is listed twice", "already listed at");
}

TEST_F(ManifestValidate, DebianPackageNameWithUppercaseSuggestsLowercase) {
    expect_one(std::string(k_debian) + "packages:\n  - curl\n  - LibSSL3\n", 6, 5,
               "package `LibSSL3` is not a valid package name",
               "Debian package names are lowercase; did you mean `libssl3`?");
}

TEST_F(ManifestValidate, PackageNameMustHaveTwoCharacters) {
    expect_one(std::string(k_debian) + "packages: [c]\n", 4, 12,
               "package `c` is not a valid package name", "at least two characters long");
}

TEST_F(ManifestValidate, UnderscoreIsNotDebianPolicy) {
    expect_one(std::string(k_debian) + "packages: [font_noto]\n", 4, 12,
               "package `font_noto` is not a valid package name", "lowercase letters, digits");
}

TEST_F(ManifestValidate, PinVersionWithWhitespaceIsRejected) {
    expect_one(std::string(k_debian) + "packages: [\"curl=7.88 beta\"]\n", 4, 12,
               "version `7.88 beta` of `curl` contains whitespace");
}

TEST_F(ManifestValidate, DebianPinMustBeADebianVersion) {
    expect_one(std::string(k_debian) + "packages: [\"curl=beta-1\"]\n", 4, 12,
               "version `beta-1` of `curl` is not a Debian version: version number does not "
               "start with a digit");
}

TEST_F(ManifestValidate, PackageRequestedTwiceIsReportedAtTheSecond) {
    expect_one(std::string(k_debian) + "packages:\n  - curl\n  - tzdata\n  - curl=7.88.1-10\n", 7,
               5, "package `curl` is requested twice", "already requested at");
}

TEST_F(ManifestValidate, PackageBothRequestedAndExcluded) {
    expect_one(std::string(k_debian) + "packages: [bash]\nexclude: [perl-base, bash]\n", 4, 12,
               "package `bash` is both requested and excluded", "manifest.yaml:5:22");
}

TEST_F(ManifestValidate, NameBothAllowedAndExcluded) {
    expect_one(std::string(k_debian) + "exclude: [dash]\nallow: [dash]\n", 5, 9,
               "`dash` is both allowed and excluded", "keep one of the two");
}

TEST_F(ManifestValidate, SourceUrlNeedsAKnownScheme) {
    expect_one(std::string(k_debian) + "sources:\n  - url: ftp://deb.example.org/debian\n", 5, 10,
               "source URL `ftp://deb.example.org/debian` is not an http://, https:// or "
               "file:// URL");
}

TEST_F(ManifestValidate, ComponentMustNotContainASlash) {
    expect_one(std::string(k_debian) + "sources:\n  - components: [main, non-free/firmware]\n", 5,
               24, "component `non-free/firmware` is not a component name", "without `/`");
}

TEST_F(ManifestValidate, EmptySuiteIsRejected) {
    expect_one(std::string(k_debian) + "sources:\n  - suites: [bookworm, '']\n", 5, 24,
               "suite `` is not a suite name");
}

TEST_F(ManifestValidate, KeyringMustExist) {
    expect_one(std::string(k_debian) + "sources:\n  - keyring: keys/missing.gpg\n", 5, 14,
               "keyring `" + (scratch() / "keys" / "missing.gpg").string() + "` is not a file",
               "relative to the manifest");
}

TEST_F(ManifestValidate, AccountNameMustBeValid) {
    expect_one(std::string(k_debian) + "accounts:\n  - name: App\n    uid: 1000\n", 5, 11,
               "`App` is not a valid account name", "lowercase letters");
}

TEST_F(ManifestValidate, AccountUidMustNotTakeABuiltinOne) {
    expect_one(std::string(k_debian) + "accounts:\n  - name: app\n    uid: 65532\n", 6, 10,
               "uid 65532 belongs to the built-in account `nonroot`");
}

TEST_F(ManifestValidate, BuiltinAccountNameKeepsItsUid) {
    expect_one(std::string(k_debian) + "accounts: [{name: nobody, uid: 99}]\n", 4, 32,
               "`nobody` is a built-in account with uid 65534");
}

TEST_F(ManifestValidate, AccountUidsMustBeUnique) {
    expect_one(std::string(k_debian) +
                   "accounts:\n  - {name: app, uid: 1000}\n  - {name: web, uid: 1000}\n",
               6, 22, "uid 1000 is already used by account `app`", "manifest.yaml:5:22");
}

TEST_F(ManifestValidate, AccountHomeMustBeAbsolute) {
    expect_one(std::string(k_debian) + "accounts: [{name: app, uid: 1000, home: srv}]\n", 4, 41,
               "`home` must be an absolute path, not `srv`");
}

TEST_F(ManifestValidate, UserMustBeAKnownAccount) {
    expect_one(std::string(k_debian) + "accounts: [{name: web, uid: 1000}]\nconfig:\n  user: wbe\n",
               6, 9, "user `wbe` is not an account", "did you mean `web`?");
}

TEST_F(ManifestValidate, UnknownUserFarFromAnyListsTheAccounts) {
    expect_one(std::string(k_debian) + "config: {user: postgres}\n", 4, 16,
               "user `postgres` is not an account", "use one of: root, nonroot, nobody");
}

TEST_F(ManifestValidate, NumericUserMustFitAUid) {
    expect_one(std::string(k_debian) + "config: {user: \"1000:99999999999\"}\n", 4, 16,
               "user `1000:99999999999` is not a uid or uid:gid");
}

TEST_F(ManifestValidate, PortOutOfRange) {
    expect_one(std::string(k_debian) + "config:\n  ports: [\"80\", \"70000\"]\n", 5, 17,
               "port `70000` is not N, N/tcp or N/udp with N from 1 to 65535");
}

TEST_F(ManifestValidate, PortWithUnknownProtocol) {
    expect_one(std::string(k_debian) + "config:\n  ports:\n    - 80/sctp\n", 6, 7,
               "port `80/sctp` is not N, N/tcp or N/udp");
}

TEST_F(ManifestValidate, EnvNameMustBeAnIdentifier) {
    expect_one(std::string(k_debian) + "config:\n  env:\n    TZ: UTC\n    1PATH: /bin\n", 7, 5,
               "`1PATH` is not a valid environment variable name", "not starting with a digit");
}

TEST_F(ManifestValidate, UnknownStopSignalSuggestsTheClosest) {
    expect_one(std::string(k_debian) + "config:\n  stop-signal: SIGTREM\n", 5, 16,
               "`SIGTREM` is not a signal", "did you mean `SIGTERM`?");
}

TEST_F(ManifestValidate, StopSignalNumberMustBeInRange) {
    expect_one(std::string(k_debian) + "config:\n  stop-signal: \"99\"\n", 5, 16,
               "`99` is not a signal", "a number from 1 to 64");
}

TEST_F(ManifestValidate, WorkdirMustBeAbsolute) {
    expect_one(std::string(k_debian) + "config:\n  workdir: srv/app\n", 5, 12,
               "`workdir` must be an absolute path, not `srv/app`", "e.g. `workdir: /app`");
}

TEST_F(ManifestValidate, DestinationMustNotClimb) {
    write("a.conf", "x");
    expect_one(std::string(k_debian) + "files:\n  - src: a.conf\n    dst: /etc/../../a.conf\n", 6,
               10, "`dst` `/etc/../../a.conf` must not contain `..`");
}

TEST_F(ManifestValidate, SourceFileMustExist) {
    expect_one(std::string(k_debian) + "files:\n  - src: conf/missing.conf\n    dst: /etc/a\n", 5,
               10,
               "`src` file `" + (scratch() / "conf" / "missing.conf").string() + "` does not exist",
               "relative to the manifest that names it");
}

TEST_F(ManifestValidate, CertificateFileMustExist) {
    expect_one(std::string(k_debian) + "certificates: [certs/ca.pem]\n", 4, 16,
               "certificate file `" + (scratch() / "certs" / "ca.pem").string() +
                   "` does not exist or is not a regular file",
               "relative to the manifest");
}

TEST_F(ManifestValidate, CertificatesAndSetuidGlobsAreValid) {
    write("certs/ca.pem", "-----BEGIN CERTIFICATE-----\n");
    expect_valid(std::string(k_debian) +
                 "certificates: [certs/ca.pem]\npaths:\n  setuid: [/usr/bin/ping]\n");
}

TEST_F(ManifestValidate, EmptySetuidGlobIsRejected) {
    expect_one(std::string(k_debian) + "paths:\n  setuid: [\"\"]\n", 5, 12,
               "empty glob in `paths.setuid`");
}

TEST_F(ManifestValidate, SourceFileMustBeARegularFile) {
    fs::create_directories(scratch() / "conf");
    expect_one(std::string(k_debian) + "files: [{src: conf, dst: /etc/conf}]\n", 4, 15,
               "is not a regular file", "directories are not copied");
}

TEST_F(ManifestValidate, TwoFilesToOneDestination) {
    write("a", "x");
    write("b", "y");
    expect_one(std::string(k_debian) +
                   "files:\n  - {src: a, dst: /etc/x}\n  - {src: b, dst: /etc/x}\n",
               6, 19, "two files are copied to `/etc/x`", "manifest.yaml:5:19");
}

TEST_F(ManifestValidate, EveryProblemIsReportedAtOnceInFileOrder) {
    const auto diagnostics = errors(R"(name: App
distro: debian
release: bookworm
archs: [x86_64]
packages: [curl, curl]
exclude: [curl]
accounts: [{name: app, uid: 0}]
config:
  user: ghost
  ports: ["0"]
  stop-signal: NOPE
  workdir: rel
files: [{src: nowhere, dst: etc/x}]
)");
    const std::vector<std::pair<int, int>> expected{{1, 7},   {4, 9},   {5, 12},  {5, 18},
                                                    {7, 29},  {9, 9},   {10, 11}, {11, 16},
                                                    {12, 12}, {13, 15}, {13, 29}};
    ASSERT_EQ(diagnostics.size(), expected.size()) << dump(diagnostics);
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(diagnostics[i].where.line, expected[i].first) << diagnostics[i].str();
        EXPECT_EQ(diagnostics[i].where.column, expected[i].second) << diagnostics[i].str();
    }
    EXPECT_THAT(diagnostics[3].message, HasSubstr("requested twice"));
}

TEST_F(ManifestValidate, ProblemsInAnIncludedManifestComeFirstAndNameIt) {
    const auto base = write("base.yaml", "distro: debian\nrelease: bookworm\nexclude: [Bad]\n");
    const auto top = write("top.yaml", "include: base.yaml\nname: app\npackages: [Nope]\n");
    try {
        validate(parse(top));
        FAIL() << "validate() accepted a bad manifest";
    } catch (const ManifestError& e) {
        const auto& diagnostics = e.diagnostics();
        ASSERT_EQ(diagnostics.size(), 2U) << e.what();
        EXPECT_EQ(diagnostics[0].where.file, base);
        EXPECT_EQ(diagnostics[0].where.line, 3);
        EXPECT_EQ(diagnostics[0].where.column, 11);
        EXPECT_EQ(diagnostics[1].where.file, top);
        EXPECT_EQ(diagnostics[1].where.line, 3);
        EXPECT_EQ(diagnostics[1].where.column, 12);
        EXPECT_EQ(e.exit_code(), ExitCode::manifest);
    }
}

} // namespace
} // namespace distill::manifest

namespace distill::manifest {
namespace {

using distro::validate;

TEST_F(ManifestValidate, ExcludeAndAllowTakeGlobs) {
    expect_valid(std::string(k_debian) +
                 "exclude: ['perl-modules-*', 'lib*-dev']\nallow: ['python3.1?']\n");
    expect_one(std::string(k_debian) + "exclude: ['Perl*']\n", 4, 11,
               "not a valid package name or glob", "globs may add");
}

TEST_F(ManifestValidate, VariantsAndRuntimeRelaxationsAreValid) {
    expect_valid(std::string(k_debian) +
                 "variants: [debug, root]\nruntime:\n  allow_syscalls: [ptrace, io_uring_setup, "
                 "ioperm]\n  capabilities: [NET_BIND_SERVICE, cap_chown]\n  writable_paths: "
                 "[/var/cache/app, /]\n");
}

TEST_F(ManifestValidate, UnknownOrRepeatedVariantsAreReported) {
    expect_one(std::string(k_debian) + "variants: [debgu]\n", 4, 12, "unknown variant `debgu`",
               "did you mean `debug`?");
    expect_one(std::string(k_debian) + "variants: [root, root]\n", 4, 18,
               "variant `root` is listed twice");
}

TEST_F(ManifestValidate, RuntimeRelaxationsNameRealSyscallsAndCapabilities) {
    expect_one(std::string(k_debian) + "runtime:\n  allow_syscalls: [ptrac]\n", 5, 20,
               "`ptrac` is not a system call the runtime profile knows", "did you mean `ptrace`?");
    expect_one(std::string(k_debian) + "runtime:\n  allow_syscalls: [read]\n", 5, 20,
               "the runtime profile allows `read` already");
    expect_one(std::string(k_debian) + "runtime:\n  capabilities: [NET_BIND_SERVIC]\n", 5, 18,
               "`NET_BIND_SERVIC` is not a Linux capability", "did you mean `NET_BIND_SERVICE`?");
    expect_one(std::string(k_debian) + "runtime:\n  writable_paths: [var/cache]\n", 5, 20,
               "a writable path must be an absolute path");
    expect_one(std::string(k_debian) + "runtime:\n  writable_paths: ['/a,b']\n", 5, 20, "a comma");
    expect_one(std::string(k_debian) + "config:\n  labels:\n    io.containers.seccomp.profile: "
                                       "'{}'\n",
               6, 5, "the label `io.containers.seccomp.profile` is distill's", "runtime:");
}

} // namespace
} // namespace distill::manifest
