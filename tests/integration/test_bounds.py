"""Integration: a hostile repository cannot make distill use unbounded time or memory.

Each case is an index or a package built to exhaust the machine; distill either handles it in
bounded memory or refuses it with an error naming the index or the package. Peak RSS is
measured with wait4 (as tests/bench does) and printed.
"""

import gzip
import io
import json
import os
import sys
import subprocess
import tarfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
import distill_test as dt  # noqa: E402

MB = 1 << 20
# Under the sanitizers (build-asan) memory and time mean nothing: AddressSanitizer's shadow
# memory and quarantine multiply both. There the tests check what distill does and says; the
# plain build's run of the same tests judges the figures.
SANITIZED = bool(os.environ.get("DISTILL_SANITIZER_EXIT_CODE"))


# Run by a small Python process of its own: the kernel counts in a child's peak RSS the memory
# of the process it was forked (or spawned) from, which here would be this test's.
_MEASURE = """
import json, os, subprocess, sys, time
timeout = float(sys.argv[1])
process = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL)
deadline = time.monotonic() + timeout
while True:
    pid, status, usage = os.wait4(process.pid, os.WNOHANG)
    if pid:
        break
    if time.monotonic() > deadline:
        process.kill()
        pid, status, usage = os.wait4(process.pid, 0)
        status = None
        break
    time.sleep(0.02)
print(json.dumps({"code": None if status is None else os.waitstatus_to_exitcode(status),
                  "rss": usage.ru_maxrss * 1024}))
"""


def measured(args, timeout=600 if SANITIZED else 120):
    """Runs distill; returns (exit code, stderr, peak RSS in bytes, seconds)."""
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-c", _MEASURE, str(timeout), dt.binary(),
                             *map(str, args)], capture_output=True, text=True,
                            timeout=timeout + 30)
    seconds = time.monotonic() - start
    outcome = json.loads(result.stdout)
    if outcome["code"] is None:
        raise AssertionError(f"distill {' '.join(map(str, args))} ran over {timeout} s")
    return outcome["code"], result.stderr, outcome["rss"], seconds


def fake_fields(name, **more):
    """A stanza for `plan` only: no package file behind it."""
    fields = {"Package": name, "Version": "1.0-1", "Architecture": "amd64",
              "Maintainer": "t <t@t.invalid>", "Installed-Size": "1",
              "Filename": f"pool/main/{name}_1.0-1_amd64.deb", "Size": "100",
              "SHA256": "0" * 64, "Description": f"{name}"}
    fields.update(more)
    return fields


class Bounds(dt.TestCase):
    def setUp(self):
        super().setUp()
        self.local = dt.LocalRepo(self.scratch)

    def publish_fields(self, stanzas):
        return dt.write_repo(self.local.root, "bookworm", {"main": stanzas}, self.local.key)

    def run_plan(self, server, packages):
        manifest = dt.write_manifest(self.scratch / "image.yaml", "bounds",
                                     [self.local.source(server.url)], packages)
        return measured(["--cache-dir", self.cache, "plan", manifest])

    def report(self, what, rss, seconds):
        print(f"\n{what}: peak RSS {rss / MB:.0f} MiB, {seconds:.1f} s"
              + (" (sanitizer build: not judged)" if SANITIZED else ""), file=sys.stderr)

    def assert_bounded(self, rss, max_rss, seconds=0.0, max_seconds=None):
        """Peak RSS under `max_rss` and the run under `max_seconds`, in a plain build."""
        if SANITIZED:
            return
        self.assertLess(rss, max_rss)
        if max_seconds is not None:
            self.assertLess(seconds, max_seconds)

    def test_a_deep_dependency_chain_costs_linear_memory(self):
        depth = 5000
        stanzas = [fake_fields(f"p{i}", Depends=f"p{i + 1}") for i in range(depth - 1)]
        stanzas.append(fake_fields(f"p{depth - 1}"))
        self.publish_fields(stanzas)
        with dt.Server(self.local.root) as server:
            code, stderr, rss, seconds = self.run_plan(server, ["p0"])
        self.report(f"why chain {depth} deep", rss, seconds)
        self.assertEqual(code, 0, stderr[-2000:])
        self.assert_bounded(rss, 100 * MB)

    def test_a_release_file_larger_than_apt_allows_is_not_read_whole(self):
        self.publish_fields([fake_fields("small")])
        release = self.local.root / "dists" / "bookworm" / "InRelease"
        # 300 MB, as apt would not read: the signed text, then endless lines of padding.
        with open(release, "ab") as out:
            line = b"X-Padding: " + b"p" * 1013 + b"\n"
            for _ in range(300 * 1024):
                out.write(line)
        with dt.Server(self.local.root) as server:
            code, stderr, rss, seconds = self.run_plan(server, ["small"])
        self.report("300 MB release file", rss, seconds)
        self.assertNotEqual(code, 0)
        self.assertIn("InRelease", stderr)
        self.assertIn("larger than the 10485760 bytes allowed", stderr)
        self.assert_bounded(rss, 100 * MB, seconds, 30)

    def test_a_stanza_of_endless_continuation_lines_is_refused(self):
        stanza = dt.stanza(fake_fields("big")).rstrip("\n") + "\n" + " .\n" * (2 * MB)
        text = stanza + "\n" + dt.stanza(fake_fields("small"))
        directory = self.local.root / "dists" / "bookworm" / "main" / "binary-amd64"
        self.publish_fields([fake_fields("small")])
        # The index is replaced by the crafted one and the release file signed again.
        release = self.local.root / "dists" / "bookworm" / "Release"
        lines = [line for line in release.read_text().splitlines()
                 if "binary-amd64/Packages" not in line]
        import hashlib
        import lzma
        (directory / "Packages").write_text(text)
        (directory / "Packages.xz").write_bytes(lzma.compress(text.encode(), preset=0))
        for name in ("Packages", "Packages.xz"):
            data = (directory / name).read_bytes()
            lines.append(f" {hashlib.sha256(data).hexdigest()} {len(data)} "
                         f"main/binary-amd64/{name}")
        release.write_text("\n".join(lines) + "\n")
        self.local.key.clearsign(release.read_text(), release.parent / "InRelease")
        with dt.Server(self.local.root) as server:
            code, stderr, rss, seconds = self.run_plan(server, ["small"])
        self.report("6 MiB stanza", rss, seconds)
        self.assertEqual(code, 4, stderr[-2000:])
        self.assertIn("line 1: the stanza starting there is longer than 1048576 bytes", stderr)
        self.assertIn("Packages", stderr)
        self.assert_bounded(rss, 100 * MB, seconds, 30)

    def test_a_stanza_without_version_or_with_an_absurd_size_is_an_error(self):
        for fields, expected in (
                (fake_fields("broken", Version=None), "the stanza of broken has no Version"),
                (fake_fields("broken", Size="99999999999999999999"),
                 "Size `99999999999999999999`: not a number of bytes"),
                (fake_fields("broken", Size="12kB"), "Size `12kB`: not a number of bytes")):
            with self.subTest(expected=expected):
                self.publish_fields([fields, fake_fields("fine")])
                with dt.Server(self.local.root) as server:
                    code, stderr, _, _ = self.run_plan(server, ["fine"])
                self.assertEqual(code, 4, stderr)
                self.assertIn(expected, stderr)
                self.assertIn("Packages", stderr)

    def test_a_package_of_a_million_empty_files_is_refused(self):
        count = 250_000
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
            directory = tarfile.TarInfo("./usr/share/many")
            directory.type = tarfile.DIRTYPE
            directory.mode = 0o755
            archive.addfile(directory)
            info = tarfile.TarInfo()
            info.mode = 0o644
            for i in range(count):
                info.name = f"./usr/share/many/{i}"
                archive.addfile(info)
        data = gzip.compress(buffer.getvalue(), compresslevel=1, mtime=0)
        control = io.BytesIO()
        with tarfile.open(fileobj=control, mode="w", format=tarfile.GNU_FORMAT) as archive:
            text = dt.control_text("many").encode()
            info = tarfile.TarInfo("./control")
            info.size = len(text)
            archive.addfile(info, io.BytesIO(text))
        deb = self.local.pool / "many_1.0-1_amd64.deb"
        deb.write_bytes(b"!<arch>\n" + dt._ar_member("debian-binary", b"2.0\n") +
                        dt._ar_member("control.tar", control.getvalue()) +
                        dt._ar_member("data.tar.gz", data))
        self.local.publish([deb])
        with dt.Server(self.local.root) as server:
            manifest = dt.write_manifest(self.scratch / "image.yaml", "bounds",
                                         [self.local.source(server.url)], ["many"])
            code, stderr, rss, seconds = measured(
                ["--cache-dir", self.cache, "build", "-o", self.scratch / "out", manifest])
        self.report(f".deb of {count} empty files ({len(deb.read_bytes()) // 1024} KiB)", rss,
                    seconds)
        self.assertEqual(code, 7, stderr[-2000:])
        self.assertIn("many 1.0-1: data.tar: more than 200000 entries", stderr)
        self.assert_bounded(rss, 200 * MB)
        # Nothing half-made stays in the cache.
        self.assertEqual(list((self.cache / "derived").rglob("*.pack")), [])


if __name__ == "__main__":
    dt.main()
