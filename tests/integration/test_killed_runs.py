"""Integration: what a killed build leaves behind is cleaned by the next run.

SIGKILL leaves no chance to remove a staging directory or a half-written cache file; their
owner holds a lock on them while it lives, so the next run removes those whose lock is free.
"""

import functools
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
import distill_test as dt  # noqa: E402


class _StallingHandler(dt._Handler):
    """Sends the first half of a .deb, then stalls: the download's temporary file exists (the
    engine creates it with the first bytes) while the build waits for the rest."""

    def do_GET(self):
        if not self.path.endswith(".deb"):
            super().do_GET()
            return
        self.server.arrived.append((time.monotonic(), self.path))
        data = (Path(self.directory) / self.path.lstrip("/")).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            time.sleep(8)
            self.wfile.write(data[len(data) // 2:])
        except OSError:
            pass  # the build was killed


class KilledRuns(dt.TestCase):
    def setUp(self):
        super().setUp()
        self.local = dt.LocalRepo(self.scratch)
        self.output = self.scratch / "out" / "image"
        debs = [dt.build_deb(self.local.pool, "hello", {"/usr/bin/hello": (b"\x7fELF" * 4096, 0o755)})]
        self.local.publish(debs)

    def leftovers(self):
        """Temporary files in the cache and staging directories beside the output."""
        found = [p for p in self.cache.rglob("*") if ".tmp." in p.name]
        found += [p for p in self.output.parent.iterdir() if ".distill-" in p.name]
        return sorted(found)

    def test_a_build_killed_while_downloading_leaves_nothing_for_long(self):
        with dt.Server(self.local.root) as server:
            server.httpd.RequestHandlerClass = functools.partial(
                _StallingHandler, directory=str(self.local.root))
            manifest = dt.write_manifest(self.scratch / "image.yaml", "hello",
                                         [self.local.source(server.url)], ["hello"])
            process = subprocess.Popen(
                [dt.binary(), "--cache-dir", self.cache, "build", "-o", self.output, manifest],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 60
            def downloading():
                return server.arrived_for(".deb") and any(
                    ".tmp." in p.name for p in self.cache.rglob("*"))
            while not downloading() and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertTrue(server.arrived_for(".deb"), "the download never started")
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            left = self.leftovers()
            # The staging directory beside the output and the download's temporary file.
            self.assertTrue(any(".distill-" in p.name for p in left), left)
            self.assertTrue(any(".tmp." in p.name for p in left), left)
        with dt.Server(self.local.root) as server:
            dt.write_manifest(manifest, "hello", [self.local.source(server.url)], ["hello"])
            result = self.distill("build", "--json", "-o", self.output, manifest, check=0)
        self.assertTrue(json.loads(result.stdout)["digest"].startswith("sha256:"))
        self.assertEqual(self.leftovers(), [])


if __name__ == "__main__":
    dt.main()
