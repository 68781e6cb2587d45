"""Shared helpers for distill's integration and system tests (Python standard library only).

A test script exits 125 to report itself skipped (ctest's SKIP_RETURN_CODE); in CI (CI=true)
nothing may be skipped, so what would be a skip there is a failure instead.
"""

import functools
import gzip
import hashlib
import http.server
import io
import json
import lzma
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import unittest
from email.utils import format_datetime
from datetime import datetime, timezone
from pathlib import Path

SKIP = 125


def in_ci():
    return os.environ.get("CI") == "true"


_running_tests = False  # set by main(): inside a test, a skip is unittest's SkipTest


def skip_or_fail(reason):
    """Skip (the script exits 125 when every test skipped) on a developer machine; fail in CI."""
    if in_ci():
        print(f"FAIL (would skip, but CI must not): {reason}", file=sys.stderr)
        sys.exit(1)
    if _running_tests:
        raise unittest.SkipTest(reason)
    print(f"SKIP: {reason}", file=sys.stderr)
    sys.exit(SKIP)


def testdata(relative=""):
    """The third-party fixtures: DISTILL_TESTDATA, default ../shared/testdata beside the
    repository."""
    root = Path(os.environ.get("DISTILL_TESTDATA") or source_dir().parent / "shared" / "testdata")
    path = root / relative
    if not path.exists():
        skip_or_fail(f"test data not found: {path} (set DISTILL_TESTDATA)")
    return path


def source_dir():
    return Path(__file__).resolve().parent.parent.parent


def binary():
    path = os.environ.get("DISTILL_BINARY")
    if not path or not Path(path).exists():
        skip_or_fail("DISTILL_BINARY is not set to the built distill binary (run through ctest)")
    return path


def require_programs(*programs):
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        skip_or_fail(f"needs {', '.join(missing)} (installed by .ci/test)")


def run(args, env=None, check=None, cwd=None, timeout=1800):
    """Runs the distill binary with `args`; returns the CompletedProcess (text mode)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    result = subprocess.run([binary(), *map(str, args)], capture_output=True, text=True,
                            env=full_env, cwd=cwd, timeout=timeout)
    # Under the sanitizers (build-asan) a report is a failure whatever the test expected, even
    # when it expected distill to fail.
    sanitizer_exit = os.environ.get("DISTILL_SANITIZER_EXIT_CODE")
    if sanitizer_exit and result.returncode == int(sanitizer_exit):
        raise AssertionError(
            f"distill {' '.join(map(str, args))}: a sanitizer stopped it (exit "
            f"{result.returncode})\nstderr:\n{result.stderr[-8000:]}")
    if check is not None and result.returncode != check:
        raise AssertionError(
            f"distill {' '.join(map(str, args))} exited {result.returncode}, expected {check}\n"
            f"stdout:\n{result.stdout[-4000:]}\nstderr:\n{result.stderr[-4000:]}")
    return result


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- a loopback HTTP server ---------------------------------------------------------------

class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):  # keep test output clean; the log is kept in memory
        pass

    def do_GET(self):
        self.server.arrived.append((time.monotonic(), self.path))
        for suffix, count in self.server.fail_first.items():
            if self.path.endswith(suffix) and self.server.failed.get(suffix, 0) < count:
                self.server.failed[suffix] = self.server.failed.get(suffix, 0) + 1
                self.send_error(503, "try again later")
                return
        if self.server.delay and self.path.endswith(".deb"):
            time.sleep(self.server.delay)
        super().do_GET()

    def send_response(self, code, message=None):
        self.server.log.append((self.command, self.path, code))
        super().send_response(code, message)


class Server:
    """Serves a directory on 127.0.0.1 (an ephemeral port) and records every request."""

    def __init__(self, root, delay=0.0, fail_first=None):
        handler = functools.partial(_Handler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.log = []
        self.httpd.delay = delay  # seconds before answering for a .deb
        self.httpd.arrived = []  # (time, path) as requests arrive; the log has them when answered
        self.httpd.fail_first = fail_first or {}  # path suffix -> how many 503s before serving
        self.httpd.failed = {}
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def log(self):
        return self.httpd.log

    def requests_for(self, suffix):
        return [entry for entry in self.httpd.log if entry[1].endswith(suffix)]

    def arrived_for(self, suffix):
        return [(when, path) for when, path in self.httpd.arrived if path.endswith(suffix)]

    def clear_log(self):
        self.httpd.log.clear()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


# --- throwaway OpenPGP keys ---------------------------------------------------------------

class SigningKey:
    """A throwaway ed25519 signing key in its own GnuPG home, made at test time."""

    def __init__(self, directory, name="distill test archive"):
        require_programs("gpg")
        self.home = Path(directory) / "gnupg"
        self.home.mkdir(mode=0o700, parents=True)
        self._gpg("--quick-gen-key", f"{name} <archive@distill.invalid>", "ed25519", "sign",
                  "never")
        self.keyring = Path(directory) / "keyring.gpg"
        self.keyring.write_bytes(self._gpg("--export", capture=True))
        listing = self._gpg("--with-colons", "--list-keys", capture=True).decode()
        self.fingerprint = next(line.split(":")[9] for line in listing.splitlines()
                                if line.startswith("fpr:"))

    def _gpg(self, *args, capture=False):
        result = subprocess.run(
            ["gpg", "--homedir", str(self.home), "--batch", "--pinentry-mode", "loopback",
             "--passphrase", "", *args], capture_output=True, check=True)
        return result.stdout if capture else None

    def clearsign(self, text, output):
        source = Path(output).with_suffix(".unsigned")
        source.write_text(text)
        self._gpg("--yes", "--digest-algo", "SHA256", "--clearsign", "-o", str(output),
                  str(source))
        source.unlink()


# --- crafted apt repositories -------------------------------------------------------------

def release_date(when):
    return format_datetime(when.astimezone(timezone.utc), usegmt=True).replace("GMT", "UTC")


def stanza(fields):
    lines = []
    for name, value in fields.items():
        if value is None:
            continue
        lines.append(f"{name}: {value}")
    return "\n".join(lines) + "\n"


def write_repo(root, suite, packages, key, components=("main",), archs=("amd64",),
               date=None, valid_until=None, codename=None, extra_fields=None):
    """Writes dists/<suite>/ of an apt repository under `root`: Packages (.xz and plain) per
    component and arch, and an InRelease signed by `key` (a SigningKey). `packages` maps a
    component to a list of field dicts (Package, Version, Architecture, Depends, ...);
    Filename/Size/SHA256 are filled from the .deb when the dict names an existing `_file`.
    """
    root = Path(root)
    date = date or datetime.now(timezone.utc)
    dist = root / "dists" / suite
    entries = []
    for component in components:
        for arch in archs:
            text = ""
            for fields in packages.get(component, []):
                fields = dict(fields)
                deb = fields.pop("_file", None)
                if deb is not None:
                    deb = Path(deb)
                    fields.setdefault("Filename", str(deb.relative_to(root)))
                    fields.setdefault("Size", str(deb.stat().st_size))
                    fields.setdefault("SHA256", sha256_file(deb))
                text += stanza(fields) + "\n"
            directory = dist / component / f"binary-{arch}"
            directory.mkdir(parents=True, exist_ok=True)
            (directory / "Packages").write_text(text)
            (directory / "Packages.xz").write_bytes(lzma.compress(text.encode()))
            for name in ("Packages", "Packages.xz"):
                data = (directory / name).read_bytes()
                entries.append((hashlib.sha256(data).hexdigest(), len(data),
                                f"{component}/binary-{arch}/{name}"))
    fields = {
        "Origin": "distill-test",
        "Label": "distill-test",
        "Suite": suite,
        "Codename": codename or suite,
        "Date": release_date(date),
        "Valid-Until": release_date(valid_until) if valid_until else None,
        "Architectures": " ".join(archs),
        "Components": " ".join(components),
    }
    fields.update(extra_fields or {})
    release = stanza(fields) + "SHA256:\n" + "".join(
        f" {sha} {size} {path}\n" for sha, size, path in entries)
    (dist / "Release").write_text(release)
    key.clearsign(release, dist / "InRelease")
    return dist / "InRelease"


# --- crafted packages ---------------------------------------------------------------------

FIXED_TIME = 1700000000  # 2023-11-14, for packages whose bytes must not depend on the day


def control_text(name, version="1.0-1", arch="amd64", **fields):
    text = (f"Package: {name}\nVersion: {version}\nArchitecture: {arch}\n"
            f"Maintainer: distill tests <tests@distill.invalid>\n")
    for key, value in fields.items():
        text += f"{key.replace('_', '-')}: {value}\n"
    return text + f"Description: {name}, made by distill's tests\n"


def build_deb(work, name, files, version="1.0-1", arch="amd64", scripts=None, **fields):
    """Builds a .deb with dpkg-deb from a directory tree made of `files` (path -> bytes, or a
    (bytes, mode) pair, or ("symlink", target), or ("dir", mode)). Owners are root, times fixed.
    `scripts` maps maintainer scripts (postinst, config, ...) to their text."""
    require_programs("dpkg-deb")
    root = Path(work) / f"{name}_{version}_{arch}.tree"
    shutil.rmtree(root, ignore_errors=True)
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(control_text(name, version, arch, **fields))
    for script, text in (scripts or {}).items():
        (root / "DEBIAN" / script).write_text(text)
        os.chmod(root / "DEBIAN" / script, 0o755)
    for path, spec in sorted(files.items()):
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(spec, tuple) and spec[0] == "symlink":
            target.symlink_to(spec[1])
            continue
        if isinstance(spec, tuple) and spec[0] == "dir":
            target.mkdir(exist_ok=True)
            os.chmod(target, spec[1])
            continue
        content, mode = spec if isinstance(spec, tuple) else (spec, 0o644)
        target.write_bytes(content if isinstance(content, bytes) else content.encode())
        os.chmod(target, mode)
    for directory, _, names in os.walk(root):
        for entry in [directory, *[os.path.join(directory, n) for n in names]]:
            os.utime(entry, (FIXED_TIME, FIXED_TIME), follow_symlinks=False)
    out = Path(work) / f"{name}_{version}_{arch}.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(root), str(out)],
                   check=True, capture_output=True,
                   env={**os.environ, "SOURCE_DATE_EPOCH": str(FIXED_TIME)})
    return out


def _ar_member(name, data):
    header = (f"{name:<16}{FIXED_TIME:<12}{0:<6}{0:<6}{0o100644:<8o}{len(data):<10}`\n").encode()
    return header + data + (b"\n" if len(data) % 2 else b"")


def tar_bytes(entries):
    """An uncompressed tar of (TarInfo, bytes or None) pairs, times fixed."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
        for info, data in entries:
            info.mtime = FIXED_TIME
            if data is not None:
                info.size = len(data)
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def control_tar(control):
    """A control.tar.gz member holding `control` as ./control."""
    data = control.encode()
    return gzip.compress(tar_bytes([(tarfile.TarInfo("./control"), data)]), mtime=0)


def ar_archive(members):
    """The bytes of an ar archive (a .deb) of (name, bytes) members, in order."""
    return b"!<arch>\n" + b"".join(_ar_member(name, data) for name, data in members)


def craft_deb(work, name, members, version="1.0-1", arch="amd64", control=None, layout=None):
    """Writes a .deb whose data.tar holds exactly `members`: tarfile.TarInfo objects, with their
    bytes as (info, bytes) pairs. For what dpkg-deb refuses to build: `..` paths, hard links out
    of the package. `control` replaces the control file's text; `layout`, given the usual ar
    members as a list of (name, bytes), returns the members to write instead (to add, drop or
    reorder them)."""
    data = []
    for member in members:
        info, payload = member if isinstance(member, tuple) else (member, None)
        data.append((info, payload))
    standard = [("debian-binary", b"2.0\n"),
                ("control.tar.gz", control_tar(control or control_text(name, version, arch))),
                ("data.tar.xz", lzma.compress(tar_bytes(data)))]
    out = Path(work) / f"{name}_{version}_{arch}.deb"
    out.write_bytes(ar_archive(layout(standard) if layout else standard))
    return out


def tar_info(path, kind=tarfile.REGTYPE, mode=0o644, link=""):
    info = tarfile.TarInfo(path)
    info.type = kind
    info.mode = mode
    info.linkname = link
    return info


def package_fields(deb, root):
    """The Packages stanza of a .deb built by build_deb or craft_deb, for write_repo."""
    result = subprocess.run(["dpkg-deb", "--field", str(deb)], check=True, capture_output=True,
                            text=True)
    fields = {}
    for line in result.stdout.splitlines():
        if line and not line[0].isspace() and ":" in line:
            key, value = line.split(":", 1)
            fields[key] = value.strip()
    fields["Installed-Size"] = fields.get("Installed-Size", "100")
    fields["_file"] = deb
    return fields


def hello_and_library(pool):
    """Two packages built into `pool`: hello (a program) and libhello1, which it depends on."""
    hello = build_deb(pool, "hello", {"/usr/bin/hello": (b"\x7fELF hello", 0o755)},
                      Depends="libhello1")
    library = build_deb(pool, "libhello1", {"/usr/lib/libhello.so.1": b"\x7fELF libhello"})
    return hello, library


class LocalRepo:
    """A signed apt repository of packages made by the test, in `directory`: pool/main holds
    the .debs, publish() writes the index of a set of them as one snapshot."""

    def __init__(self, directory):
        self.key = SigningKey(Path(directory) / "key")
        self.root = Path(directory) / "repo"
        self.pool = self.root / "pool" / "main"
        self.pool.mkdir(parents=True)

    def publish(self, debs, when=None, suite="bookworm", others=None, **options):
        """Writes the index of `debs` (component main of `suite`), dated `when` (default now);
        the InRelease file's time is the same, so that the server's Last-Modified tells two
        snapshots apart. `others` maps more components (contrib, ...) to their .debs, which
        must lie under `root` too."""
        when = when or datetime.now(timezone.utc)
        packages = {"main": [package_fields(deb, self.root) for deb in debs]}
        for component, more in (others or {}).items():
            packages[component] = [package_fields(deb, self.root) for deb in more]
        release = write_repo(self.root, suite, packages, self.key, components=tuple(packages),
                             date=when, **options)
        os.utime(release, (when.timestamp(), when.timestamp()))
        return release

    def source(self, url):
        """The manifest source for this repository served at `url`."""
        return {"url": url, "keyring": self.key.keyring}


def write_manifest(path, name, sources, packages, extra="", release="bookworm"):
    """Writes a Debian manifest; `sources` is a list of dicts (url, suites, components, keyring).
    A source's suites default to [bookworm]; `"suites": None` leaves the key out (the release's
    default suites)."""
    lines = [f"name: {name}", "distro: debian", f"release: {release}", "archs: [amd64]",
             "sources:"]
    for source in sources:
        lines.append(f"  - url: {source['url']}")
        suites = source.get("suites", ["bookworm"])
        if suites is not None:
            lines.append(f"    suites: [{', '.join(suites)}]")
        lines.append(f"    components: [{', '.join(source.get('components', ['main']))}]")
        if "keyring" in source:
            lines.append(f"    keyring: {source['keyring']}")
    lines.append("packages:")
    lines.extend(f"  - {p}" for p in packages)
    Path(path).write_text("\n".join(lines) + "\n" + extra)
    return Path(path)


def digests_under_perturbations(scratch, manifest):
    """The digests of `manifest` built three times: two caches (one warm by the third run),
    time zones, locales, umasks and job counts that differ, and no SOURCE_DATE_EPOCH. A
    reproducible build gives one digest."""
    digests = set()
    runs = [({"TZ": "UTC", "LANG": "C"}, 0o022, "-j1", "cache-a"),
            ({"TZ": "Asia/Tokyo", "LANG": "de_DE.UTF-8"}, 0o077, "-j8", "cache-b"),
            ({"TZ": "America/Los_Angeles"}, 0o002, "-j3", "cache-a")]
    for env, umask, jobs, cache in runs:
        out = Path(scratch) / f"out-{cache}-{jobs}"
        result = subprocess.run(
            [binary(), "--cache-dir", Path(scratch) / cache, "-q", "build", "--json", jobs,
             "-o", out, manifest], capture_output=True, text=True, umask=umask,
            env={**os.environ, **env, "SOURCE_DATE_EPOCH": ""}, check=True)
        digests.add(json.loads(result.stdout)["digest"])
    return digests


class TestCase(unittest.TestCase):
    """A test case with a scratch directory and a private distill cache per test."""

    def setUp(self):
        self._scratch = tempfile.TemporaryDirectory(prefix="distill-it-")
        self.scratch = Path(self._scratch.name)
        self.cache = self.scratch / "cache"

    def tearDown(self):
        self._scratch.cleanup()

    def distill(self, *args, check=None, env=None):
        return run(["--cache-dir", self.cache, *args], check=check, env=env)

    def write(self, name, text):
        """Writes `text` to a file in the scratch directory; returns its path."""
        path = self.scratch / name
        path.write_text(text)
        return path


def main():
    """Runs the calling script's tests: exit 0 when all passed, 125 (ctest's "skipped") when
    every test skipped, 1 otherwise."""
    global _running_tests
    _running_tests = True
    outcome = unittest.main(module="__main__", verbosity=2, exit=False).result
    if not outcome.wasSuccessful():
        sys.exit(1)
    if outcome.testsRun > 0 and len(outcome.skipped) == outcome.testsRun:
        sys.exit(SKIP)
    sys.exit(0)


def timed_build(cache, manifest, out):
    """`distill build --json -o out manifest` with the cache directory `cache`, which must
    succeed: (its JSON result, the seconds it took)."""
    started = time.monotonic()
    result = run(["--cache-dir", cache, "build", "--json", "-o", out, manifest], check=0)
    return json.loads(result.stdout), time.monotonic() - started

def build_figures(name, result, seconds):
    """One line of figures of a `distill build --json` result (its first architecture)."""
    arch = result["archs"][0]
    return (f"{name}: {arch['packages']} packages, {arch['files']} files, {arch['entries']} "
            f"paths, {arch['size'] / 1e6:.2f} MB compressed, {arch['uncompressed_size'] / 1e6:.2f}"
            f" MB unpacked, built in {seconds:.1f} s")

def apk_installed(text):
    """apk's installed database (lib/apk/db/installed): package name -> its [(key, value)]
    lines, in order."""
    records = {}
    for block in text.split("\n\n"):
        lines = [(line[0], line[2:]) for line in block.splitlines() if line[1:2] == ":"]
        names = [value for key, value in lines if key == "P"]
        if names:
            records[names[0]] = lines
    return records


# --- podman --------------------------------------------------------------------------------

# podman's default runtime and limits do not work on these machines (see RUNTIME.md in shared/).
CONTAINERS_CONF = """[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
"""


def podman_private(storage, conf, *args, check=True, timeout=300):
    """podman with a storage of its own below `storage` (images, containers, run state) and the
    containers.conf `conf`; returns the CompletedProcess (text mode). With `check`, a failure
    raises AssertionError with the command and the end of its stderr."""
    result = subprocess.run(
        ["podman", "--root", Path(storage) / "root", "--runroot", Path(storage) / "run", *args],
        capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "CONTAINERS_CONF": str(conf)})
    if check and result.returncode != 0:
        raise AssertionError(f"podman {' '.join(map(str, args))} exited {result.returncode}:\n"
                             f"{result.stderr[-3000:]}")
    return result


# How distill's runtime profile runs an image (`distill inspect --run`), less the seccomp
# profile, which hardened() adds.
HARDENED = ["--read-only", "--read-only-tmpfs=false", "--tmpfs", "/tmp:rw,noexec,nosuid,nodev",
            "--cap-drop=ALL", "--security-opt=no-new-privileges", "--user", "65532"]

# What tests/data/programs/probe.c reports under the runtime profile: every attempt refused.
PROBE_REFUSED = {"mount": "refused (EPERM)", "unshare": "refused (EPERM)",
                 "setns": "refused (EPERM)", "ptrace": "refused (EPERM)",
                 "bpf": "refused (EPERM)", "keyctl": "refused (EPERM)",
                 "write /": "refused (EROFS)"}


def probe_results(output):
    """The probe's report (a "NAME: allowed" or "NAME: refused (ERRNO)" line each) as a dict."""
    return dict(line.split(": ", 1) for line in output.splitlines())


def scratch_dir(prefix, parent=None):
    """A new directory for a test class's scratch, whose name podman takes in `oci:PATH`: it
    names an image run from a layout after the path, and refuses capitals and a `_` at the
    end of a component, which mkdtemp's random part may have."""
    for _ in range(100):
        path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
        if re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", path.name):
            return path
        path.rmdir()
    raise AssertionError("no scratch directory named as podman takes it after 100 tries")


def seccomp_file(layout):
    """The seccomp profile distill writes beside a layout: out/app -> out/app.seccomp.json."""
    layout = Path(layout)
    return layout.parent / f"{layout.name}.seccomp.json"


def hardened(layout):
    """podman run's options for the image of `layout` under its runtime profile: HARDENED and
    the seccomp profile written beside it."""
    return HARDENED + [f"--security-opt=seccomp={seccomp_file(layout)}"]


def podman_run(conf, image, *args, entrypoint=None, check=True, timeout=600, options=()):
    """`podman run --rm` of `image` (oci:LAYOUT[:TAG], a loaded name) with `args`, without
    network or pulls, under the containers.conf `conf`, with the run `options` (hardened(),
    say); returns the CompletedProcess (text mode). With `check`, a failure raises
    AssertionError with the command and its stderr."""
    command = ["podman", "run", "--rm", "--network=none", "--pull=never", *options]
    if entrypoint is not None:
        command += ["--entrypoint", entrypoint]
    command += [image, *map(str, args)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                            env={**os.environ, "CONTAINERS_CONF": str(conf)})
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} exited {result.returncode}:\n"
                             f"{result.stderr[-3000:]}")
    return result


# --- OCI layouts --------------------------------------------------------------------------

SCHEMA_ALIASES = {
    "config-schema.json": ["https://opencontainers.org/schema/image/config"],
    "content-descriptor.json": ["https://opencontainers.org/schema/descriptor",
                                "https://opencontainers.org/schema/image/content-descriptor.json"],
    "defs-descriptor.json": ["https://opencontainers.org/schema/image/descriptor/mediaType",
                             "https://opencontainers.org/schema/defs-descriptor.json",
                             "https://opencontainers.org/schema/image/defs-descriptor.json"],
    "defs.json": ["https://opencontainers.org/schema/defs.json",
                  "https://opencontainers.org/schema/image/defs.json",
                  "https://opencontainers.org/schema/image/descriptor/defs.json"],
    "image-index-schema.json": ["https://opencontainers.org/schema/image/index"],
    "image-layout-schema.json": ["https://opencontainers.org/schema/image/layout"],
    "image-manifest-schema.json": ["https://opencontainers.org/schema/image/manifest"],
}


class OciSchemas:
    """The OCI image-spec JSON schemas of ../shared/testdata/oci, with python3-jsonschema."""

    def __init__(self, version="main"):
        try:
            import jsonschema  # Debian's python3-jsonschema, installed by .ci/test
        except ImportError:
            skip_or_fail("needs python3-jsonschema (installed by .ci/test)")
        self.jsonschema = jsonschema
        directory = testdata(f"oci/schema/{version}")
        self.schemas = {}
        store = {}
        for name, aliases in SCHEMA_ALIASES.items():
            schema = json.loads((directory / name).read_text())
            self.schemas[name] = schema
            for key in [name, *aliases, schema.get("id", name)]:
                store[key] = schema
        self.store = store

    def check(self, schema_name, document):
        """Raises jsonschema.ValidationError when `document` does not match."""
        schema = self.schemas[schema_name]
        # Nested `id`s move the base of relative references around; every reference names a
        # schema file by its last path component, so that is where it is looked up. Nothing is
        # ever fetched.
        by_name = lambda url: self.schemas[url.rstrip("/").rsplit("/", 1)[-1]]  # noqa: E731
        resolver = self.jsonschema.RefResolver(schema.get("id", schema_name), schema,
                                               store=self.store,
                                               handlers={"https": by_name, "http": by_name})
        self.jsonschema.Draft4Validator(schema, resolver=resolver).validate(document)

    def check_layout(self, layout):
        """Checks an OCI image layout: every JSON document against its schema, every blob that
        a descriptor names present with that digest and size. Returns the number of documents
        checked."""
        layout = Path(layout)
        self.check("image-layout-schema.json", json.loads((layout / "oci-layout").read_text()))
        index = json.loads((layout / "index.json").read_text())
        self.check("image-index-schema.json", index)
        checked = 2
        pending = list(index["manifests"])
        schemas = {"application/vnd.oci.image.manifest.v1+json": "image-manifest-schema.json",
                   "application/vnd.oci.image.index.v1+json": "image-index-schema.json",
                   "application/vnd.oci.image.config.v1+json": "config-schema.json"}
        while pending:
            descriptor = pending.pop()
            self.check("content-descriptor.json", descriptor)
            blob = layout / "blobs" / "sha256" / descriptor["digest"].split(":", 1)[1]
            data = blob.read_bytes()
            if len(data) != descriptor["size"]:
                raise AssertionError(f"{blob}: {len(data)} bytes, descriptor says "
                                     f"{descriptor['size']}")
            if "sha256:" + hashlib.sha256(data).hexdigest() != descriptor["digest"]:
                raise AssertionError(f"{blob}: content does not match its digest")
            schema = schemas.get(descriptor["mediaType"])
            if schema is None:
                continue
            document = json.loads(data)
            self.check(schema, document)
            checked += 1
            if schema == "image-manifest-schema.json":
                pending.extend([document["config"], *document["layers"]])
            elif schema == "image-index-schema.json":
                pending.extend(document["manifests"])
        return checked


def blob(layout, digest):
    """The bytes of a blob of an OCI layout, checked against its digest."""
    data = (Path(layout) / "blobs" / "sha256" / digest.split(":", 1)[1]).read_bytes()
    if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
        raise AssertionError(f"{layout}: blob {digest} does not match its digest")
    return data


def image_files(layout, ref=None):
    """(manifest, config, layer bytes) of the single-architecture image in an OCI layout."""
    layout = Path(layout)
    index = json.loads((layout / "index.json").read_text())

    def blob(digest):
        return (layout / "blobs" / "sha256" / digest.split(":", 1)[1]).read_bytes()

    manifest = json.loads(blob(index["manifests"][0]["digest"]))
    config = json.loads(blob(manifest["config"]["digest"]))
    layer = blob(manifest["layers"][0]["digest"])
    return manifest, config, layer


def layer_members(layer_bytes):
    """The tar members of a (gzip, zstd or plain) layer, in order, with their contents."""
    if layer_bytes[:2] == b"\x1f\x8b":
        data = gzip.decompress(layer_bytes)  # every member of a multi-member gzip
    elif layer_bytes[:4] == b"\x28\xb5\x2f\xfd":
        data = subprocess.run(["zstd", "-dc"], input=layer_bytes, capture_output=True,
                              check=True).stdout
    else:
        data = layer_bytes
    members = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        for member in archive:
            content = archive.extractfile(member).read() if member.isreg() else None
            members.append((member, content))
    return members, data


# --- SBOMs ---------------------------------------------------------------------------------

SPDX_MEDIA_TYPE = "application/spdx+json"
CYCLONEDX_MEDIA_TYPE = "application/vnd.cyclonedx+json"


class SbomSchemas:
    """The official SPDX 2.3 and CycloneDX 1.6 JSON schemas of ../shared/testdata/sbom (with the
    two schemas CycloneDX references), with python3-jsonschema; nothing is ever fetched."""

    def __init__(self):
        try:
            import jsonschema  # Debian's python3-jsonschema, installed by .ci/test
        except ImportError:
            skip_or_fail("needs python3-jsonschema (installed by .ci/test)")
        self.jsonschema = jsonschema
        directory = testdata("sbom")
        self.store = {}
        self.schemas = {}
        for name in ("spdx-2.3.schema.json", "bom-1.6.SNAPSHOT.schema.json",
                     "spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json"):
            schema = json.loads((directory / name).read_text())
            self.schemas[name] = schema
            for key in (name, schema.get("$id", name)):
                self.store[key] = schema
        # The licence identifiers SPDX knows (CycloneDX's copy of the list).
        self.license_ids = set(self.schemas["spdx.SNAPSHOT.schema.json"]["enum"])

    def _validate(self, name, document):
        schema = self.schemas[name]
        by_name = lambda url: self.schemas[url.rstrip("/").rsplit("/", 1)[-1]]  # noqa: E731
        resolver = self.jsonschema.RefResolver(schema.get("$id", name), schema, store=self.store,
                                               handlers={"https": by_name, "http": by_name})
        validator = self.jsonschema.validators.validator_for(schema)
        validator(schema, resolver=resolver).validate(document)

    def check_spdx(self, document):
        self._validate("spdx-2.3.schema.json", document)

    def check_cyclonedx(self, document):
        self._validate("bom-1.6.SNAPSHOT.schema.json", document)

    def check_expression(self, expression):
        """Raises AssertionError unless `expression` is NOASSERTION or made of SPDX licence and
        exception identifiers with AND, OR, WITH and parentheses."""
        if expression == "NOASSERTION":
            return
        for token in expression.replace("(", " ").replace(")", " ").split():
            if token not in ("AND", "OR", "WITH") and token not in self.license_ids:
                raise AssertionError(f"`{token}` of `{expression}` is no SPDX identifier")


PURL = re.compile(r"^pkg:(?P<type>[a-z][a-z0-9.+-]*)/(?P<namespace>[^@?#]+)/(?P<name>[^/@?#]+)"
                  r"@(?P<version>[^?#]+)(\?(?P<qualifiers>[^#]*))?$")


def parse_purl(purl):
    """A package URL's parts, as the purl specification reads them (percent-decoded), or
    AssertionError."""
    import urllib.parse
    match = PURL.match(purl)
    if not match:
        raise AssertionError(f"`{purl}` is not a package URL")
    qualifiers = {}
    for pair in (match["qualifiers"] or "").split("&"):
        if pair:
            key, _, value = pair.partition("=")
            if not re.fullmatch(r"[a-z][a-z0-9.\-_]*", key) or key in qualifiers:
                raise AssertionError(f"`{purl}`: bad qualifier `{key}`")
            qualifiers[key] = urllib.parse.unquote(value)
    return {"type": match["type"], "namespace": urllib.parse.unquote(match["namespace"]),
            "name": urllib.parse.unquote(match["name"]),
            "version": urllib.parse.unquote(match["version"]), "qualifiers": qualifiers}


def layout_sboms(layout):
    """The SBOMs an OCI layout holds: {(image manifest digest, media type): document}, each
    read through its artifact manifest, whose subject must be an image of the layout."""
    layout = Path(layout)
    index = json.loads((layout / "index.json").read_text())

    def blob(digest):
        data = (layout / "blobs" / "sha256" / digest.split(":", 1)[1]).read_bytes()
        if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
            raise AssertionError(f"{layout}: blob {digest} does not match its digest")
        return data

    images = set()
    top = index["manifests"][0]
    if top["mediaType"] == "application/vnd.oci.image.index.v1+json":
        images = {m["digest"] for m in json.loads(blob(top["digest"]))["manifests"]}
    else:
        images = {top["digest"]}
    found = {}
    for entry in index["manifests"][1:]:
        if "artifactType" not in entry:
            continue  # a variant of the image (TAG-debug, TAG-root)
        artifact = json.loads(blob(entry["digest"]))
        if artifact.get("artifactType") != entry.get("artifactType"):
            raise AssertionError(f"{entry['digest']}: artifactType differs from index.json's")
        if artifact["subject"]["digest"] not in images:
            raise AssertionError(f"{entry['digest']}: subject is not an image of the layout")
        blob(artifact["config"]["digest"])  # present, and what it says it is
        document = json.loads(blob(artifact["layers"][0]["digest"]))
        found[(artifact["subject"]["digest"], artifact["artifactType"])] = document
    return found


def layer_paths(layer_bytes):
    """{"/path": (tarinfo, content)} of a layer, without the root."""
    members, _ = layer_members(layer_bytes)
    out = {}
    for member, content in members:
        path = "/" + member.name.removeprefix("./").lstrip("/").rstrip("/")
        if path != "/":
            out[path] = (member, content)
    return out


def check_sboms(test, layout, schemas, database_packages, plan_packages=None):
    """The checks every image's SBOMs must pass, for a single-architecture layout: both
    validate against their schemas; the packages of SPDX = those of CycloneDX = the image's
    package database (`database_packages`, names) = the plan (names, when given); SPDX lists
    each regular file of the layer once with its SHA-1 and SHA-256, CycloneDX each file and
    symlink; every purl parses and carries distro=; every licence is an SPDX expression.
    Returns (spdx, cyclonedx)."""
    manifest, _, layer = image_files(layout)
    digest = "sha256:" + hashlib.sha256(
        (Path(layout) / "blobs" / "sha256" /
         json.loads((Path(layout) / "index.json").read_text())["manifests"][0]["digest"]
         .split(":", 1)[1]).read_bytes()).hexdigest()
    sboms = layout_sboms(layout)
    spdx = sboms[(digest, SPDX_MEDIA_TYPE)]
    cyclonedx = sboms[(digest, CYCLONEDX_MEDIA_TYPE)]
    schemas.check_spdx(spdx)
    schemas.check_cyclonedx(cyclonedx)

    spdx_packages = {p["name"] for p in spdx["packages"]
                     if p["SPDXID"] not in ("SPDXRef-Image", "SPDXRef-OperatingSystem")}
    cdx_packages = {c["name"] for c in cyclonedx["components"] if c["type"] == "library"}
    test.assertEqual(spdx_packages, cdx_packages)
    test.assertEqual(spdx_packages, set(database_packages))
    if plan_packages is not None:
        test.assertEqual(spdx_packages, set(plan_packages))

    paths = layer_paths(layer)
    files = {p: content for p, (member, content) in paths.items() if member.isreg()}
    links = {p: member for p, (member, content) in paths.items() if member.islnk()}
    symlinks = {p for p, (member, _) in paths.items() if member.issym()}
    spdx_files = {}
    for item in spdx["files"]:
        path = item["fileName"][1:]
        test.assertNotIn(path, spdx_files, f"{path} listed twice")
        spdx_files[path] = {c["algorithm"]: c["checksumValue"] for c in item["checksums"]}
    test.assertEqual(set(spdx_files), set(files) | set(links))
    for path, content in files.items():
        test.assertEqual(spdx_files[path]["SHA256"], hashlib.sha256(content).hexdigest(), path)
        test.assertEqual(spdx_files[path]["SHA1"], hashlib.sha1(content).hexdigest(), path)
    cdx_files = [c["name"] for c in cyclonedx["components"] if c["type"] == "file"]
    test.assertEqual(len(cdx_files), len(set(cdx_files)))
    test.assertEqual(set(cdx_files), set(files) | set(links) | symlinks)

    for package in spdx["packages"]:
        schemas.check_expression(package.get("licenseDeclared", "NOASSERTION"))
        for ref in package.get("externalRefs", []):
            if ref["referenceType"] == "purl" and package["SPDXID"] != "SPDXRef-Image":
                parsed = parse_purl(ref["referenceLocator"])
                test.assertIn("distro", parsed["qualifiers"], ref["referenceLocator"])
                test.assertEqual(parsed["name"], package["name"])
                test.assertEqual(parsed["version"], package["versionInfo"])
    for component in cyclonedx["components"]:
        if component["type"] == "library":
            test.assertIn("distro", parse_purl(component["purl"])["qualifiers"])
    return spdx, cyclonedx


def dpkg_status_packages(text):
    """The package names of a dpkg status file whose Status is `install ok installed`."""
    names = []
    for stanza in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in stanza.splitlines()
                      if ": " in line and not line.startswith(" "))
        if fields.get("Status") == "install ok installed":
            names.append(fields["Package"])
    return names
