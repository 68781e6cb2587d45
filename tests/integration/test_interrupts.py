"""Integration: Ctrl-C and SIGTERM reach every wait and every long loop.

A build is interrupted while the release file download stalls, while a large index is parsed
and while a package download stalls: it ends with exit 130 within 2 seconds, and the previous
image and the cache are as they were.
"""

import functools
import gzip
import hashlib
import http.server
import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
import distill_test as dt  # noqa: E402


class _StallingHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        self.server.arrived.append((time.monotonic(), self.path))
        if any(self.path.endswith(suffix) for suffix in self.server.stall):
            # Accept the request, answer nothing until the test ends.
            self.server.release.wait(60)
            return
        super().do_GET()


class StallingServer:
    """Serves a directory on 127.0.0.1; requests for paths ending in one of `stall` get no
    answer until the server stops."""

    def __init__(self, root, stall=()):
        handler = functools.partial(_StallingHandler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.stall = stall
        self.httpd.arrived = []
        self.httpd.release = threading.Event()
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def arrived_for(self, suffix):
        return [when for when, path in self.httpd.arrived if path.endswith(suffix)]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class Interrupts(dt.TestCase):
    def setUp(self):
        super().setUp()
        self.local = dt.LocalRepo(self.scratch)
        self.output = self.scratch / "out" / "image"
        self.manifest = self.scratch / "image.yaml"

    def write_manifest(self, server):
        dt.write_manifest(self.manifest, "hello", [self.local.source(server.url)], ["hello"])

    def first_build(self):
        """A good image at the output and a warm cache; returns the image's digest."""
        with StallingServer(self.local.root) as server:
            self.write_manifest(server)
            result = self.distill("build", "--json", "-o", self.output, self.manifest, check=0)
        return json.loads(result.stdout)["digest"]

    def interrupt(self, server, wait_for, sig, settle=0.3):
        """Starts a build, sends `sig` once `wait_for` has arrived (and `settle` seconds more);
        returns (exit code, stderr, seconds from the signal to the exit)."""
        self.write_manifest(server)
        process = subprocess.Popen(
            [dt.binary(), "--cache-dir", self.cache, "build", "-o", self.output, self.manifest],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not wait_for() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.02)
        self.assertIsNone(process.poll(), "the build ended before it was interrupted")
        self.assertTrue(wait_for(), "the build never got there")
        time.sleep(settle)
        sent = time.monotonic()
        process.send_signal(sig)
        try:
            _, stderr = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            _, stderr = process.communicate()
            return None, stderr, time.monotonic() - sent
        return process.returncode, stderr, time.monotonic() - sent

    def assert_intact(self, digest):
        index = json.loads((self.output / "index.json").read_text())
        self.assertEqual(index["manifests"][0]["digest"], digest)
        self.assertEqual([p.name for p in self.output.parent.iterdir() if ".distill-" in p.name],
                         [])
        for blob in (self.cache / "blobs" / "sha256").iterdir():
            self.assertRegex(blob.name, "^[0-9a-f]{64}$", "a partial download stayed")
            self.assertEqual(dt.sha256_file(blob), blob.name)

    def assert_interrupted(self, code, stderr, seconds, what):
        print(f"\n{what}: exit {code} {seconds:.2f} s after the signal", file=sys.stderr)
        self.assertEqual(code, 130, stderr[-2000:])
        self.assertIn("interrupted", stderr)
        self.assertLess(seconds, 2.0)

    def test_a_stalled_release_file_download(self):
        self.local.publish([dt.build_deb(self.local.pool, "hello", {"/usr/bin/hello": b"hi"})])
        digest = self.first_build()
        # A new snapshot, so that the release file is asked for again.
        self.local.publish([dt.build_deb(self.local.pool, "hello", {"/usr/bin/hello": b"hi"})])
        for sig in (signal.SIGINT, signal.SIGTERM):
            with self.subTest(signal=sig.name), \
                    StallingServer(self.local.root, stall=("InRelease",)) as server:
                code, stderr, seconds = self.interrupt(
                    server, lambda: server.arrived_for("InRelease"), sig)
                self.assert_interrupted(code, stderr, seconds, f"InRelease stall, {sig.name}")
                self.assert_intact(digest)

    def test_a_stalled_package_download(self):
        self.local.publish([dt.build_deb(self.local.pool, "hello", {"/usr/bin/hello": b"hi"})])
        digest = self.first_build()
        self.local.publish([dt.build_deb(self.local.pool, "hello", {"/usr/bin/hello": b"v2"},
                                         version="2.0-1")])
        for sig in (signal.SIGINT, signal.SIGTERM):
            with self.subTest(signal=sig.name), \
                    StallingServer(self.local.root, stall=(".deb",)) as server:
                code, stderr, seconds = self.interrupt(server, lambda: server.arrived_for(".deb"),
                                                       sig)
                self.assert_interrupted(code, stderr, seconds, f".deb stall, {sig.name}")
                self.assert_intact(digest)

    def test_parsing_a_large_index(self):
        hello = dt.build_deb(self.local.pool, "hello", {"/usr/bin/hello": b"hi"})
        self.local.publish([hello])
        digest = self.first_build()
        # An index big enough that parsing it takes seconds: hello among many packages, each
        # with its own hash (so that it compresses as a real index does).
        stanzas = [dt.stanza({k: v for k, v in dt.package_fields(hello, self.local.root).items()
                              if k != "_file"} | {"Filename": str(hello.relative_to(
                                  self.local.root)), "Size": str(hello.stat().st_size),
                                  "SHA256": dt.sha256_file(hello)})]
        for i in range(400_000):
            digest_i = hashlib.sha256(str(i).encode()).hexdigest()
            stanzas.append(
                f"Package: filler{i}\nVersion: 1.{i}-1\nArchitecture: amd64\n"
                f"Maintainer: t <t@t.invalid>\nInstalled-Size: {i % 1000}\n"
                f"Depends: filler{i + 1} (>= 1.0), libc6 (>= 2.36)\n"
                f"Filename: pool/main/f/filler{i}_1.{i}-1_amd64.deb\nSize: {i + 100}\n"
                f"SHA256: {digest_i}\nDescription: filler package {i}\n")
        text = "\n".join(stanzas).encode()
        dist = self.local.root / "dists" / "bookworm"
        directory = dist / "main" / "binary-amd64"
        for old in directory.iterdir():
            old.unlink()
        packed = gzip.compress(text, compresslevel=1, mtime=0)
        (directory / "Packages.gz").write_bytes(packed)
        release = (f"Origin: distill-test\nSuite: bookworm\nCodename: bookworm\n"
                   f"Date: {dt.release_date(dt.datetime.now(dt.timezone.utc))}\n"
                   f"Architectures: amd64\nComponents: main\nSHA256:\n"
                   f" {hashlib.sha256(packed).hexdigest()} {len(packed)} "
                   f"main/binary-amd64/Packages.gz\n")
        self.local.key.clearsign(release, dist / "InRelease")
        for sig in (signal.SIGINT, signal.SIGTERM):
            with self.subTest(signal=sig.name), StallingServer(self.local.root) as server:
                # The index has arrived; its hash is checked in well under a second, then
                # libsolv parses it for several seconds.
                code, stderr, seconds = self.interrupt(
                    server, lambda: server.arrived_for("Packages.gz"), sig, settle=1.0)
                self.assert_interrupted(code, stderr, seconds, f"index parsing, {sig.name}")
                self.assert_intact(digest)
            # The derived form of an index parsed only in part is never stored.
            self.assertEqual(list((self.cache / "derived").rglob("*.tmp.*")), [])
            # The next run fetches the index again, and parses it again.
            (self.cache / "blobs" / "sha256" / hashlib.sha256(packed).hexdigest()).unlink(missing_ok=True)


if __name__ == "__main__":
    dt.main()
