"""Shared helpers for distill's integration and system tests (Python standard library only).

A test script exits 125 to report itself skipped (ctest's SKIP_RETURN_CODE); in CI (CI=true)
nothing may be skipped, so what would be a skip there is a failure instead.
"""

import contextlib
import functools
import gzip
import hashlib
import http.server
import json
import lzma
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from pathlib import Path

SKIP = 125


def in_ci():
    return os.environ.get("CI") == "true"


def skip_or_fail(reason):
    """Skip the whole script (exit 125) on a developer machine; fail in CI."""
    if in_ci():
        print(f"FAIL (would skip, but CI must not): {reason}", file=sys.stderr)
        sys.exit(1)
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

    def send_response(self, code, message=None):
        self.server.log.append((self.command, self.path, code))
        super().send_response(code, message)


class Server:
    """Serves a directory on 127.0.0.1 (an ephemeral port) and records every request."""

    def __init__(self, root):
        handler = functools.partial(_Handler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.log = []
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def log(self):
        return self.httpd.log

    def requests_for(self, suffix):
        return [entry for entry in self.httpd.log if entry[1].endswith(suffix)]

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


def write_manifest(path, name, sources, packages, extra=""):
    """Writes a Debian manifest; `sources` is a list of dicts (url, suites, components, keyring)."""
    lines = [f"name: {name}", "distro: debian", "release: bookworm", "archs: [amd64]", "sources:"]
    for source in sources:
        lines.append(f"  - url: {source['url']}")
        lines.append(f"    suites: [{', '.join(source.get('suites', ['bookworm']))}]")
        lines.append(f"    components: [{', '.join(source.get('components', ['main']))}]")
        if "keyring" in source:
            lines.append(f"    keyring: {source['keyring']}")
    lines.append("packages:")
    lines.extend(f"  - {p}" for p in packages)
    Path(path).write_text("\n".join(lines) + "\n" + extra)
    return Path(path)


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


def main():
    """Runs the calling script's tests; the exit code is 0 only if all passed."""
    unittest.main(module="__main__", verbosity=2)
