"""Integration: lockfiles, nightly updates, diffs with CVEs, reproducibility under perturbation,
and `distill verify`, against a signed repository made here and served on 127.0.0.1."""

import gzip
import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
import distill_test as dt  # noqa: E402

CHANGELOG = """libhello (1.0-2) bookworm-security; urgency=high

  * Fix a buffer overflow in hello_greet() (CVE-2099-0001).
  * Fix a use after free in hello_free(); CVE-2099-0002. Closes: #999999

 -- distill tests <tests@distill.invalid>  Mon, 01 Jun 2099 10:00:00 +0000

libhello (1.0-1) bookworm; urgency=medium

  * Initial release (CVE-2098-1234 is an older one). Closes: #111111

 -- distill tests <tests@distill.invalid>  Mon, 01 Jun 2098 10:00:00 +0000
"""


def libhello(pool, version):
    return dt.build_deb(pool, "libhello1", {
        "/usr/lib/x86_64-linux-gnu/libhello.so.1": (f"\x7fELF libhello {version}".encode(), 0o644),
        "/usr/share/doc/libhello1/copyright": b"Apache-2.0\n",
        "/usr/share/doc/libhello1/changelog.Debian.gz": gzip.compress(
            CHANGELOG.split("\n\n\n")[0].encode() if version == "1.0-2" else
            CHANGELOG[CHANGELOG.index("libhello (1.0-1)"):].encode(), mtime=0),
    }, version=version, Source="libhello", Multi_Arch="same")


class Lock(dt.TestCase):
    def setUp(self):
        super().setUp()
        self.local = dt.LocalRepo(self.scratch)
        self.app = dt.build_deb(self.local.pool, "hello", {"/usr/bin/hello": (b"\x7fELF hello", 0o755)},
                                Depends="libhello1 (>= 1.0)")
        self.v1 = libhello(self.local.pool, "1.0-1")
        self.project = self.scratch / "project"
        self.project.mkdir()
        (self.project / "app.conf").write_text("greeting=hello\n")
        self.output = self.scratch / "out" / "image"

    def publish(self, debs, age_days=0):
        self.local.publish(debs, datetime.now(timezone.utc) - timedelta(days=age_days))

    def manifest(self, url, extra=""):
        return dt.write_manifest(
            self.project / "image.yaml", "hello", [{"url": url, "keyring": self.local.key.keyring}],
            ["hello"], "files:\n  - src: app.conf\n    dst: /etc/app.conf\n" + extra)

    def build(self, manifest, *args, check=0, output=None, env=None):
        result = self.distill("build", "--json", "-o", output or self.output, *args, manifest,
                              check=check, env=env)
        return json.loads(result.stdout) if check == 0 else result

    def test_the_first_build_writes_the_lock_and_the_next_take_it(self):
        self.publish([self.app, self.v1])
        with dt.Server(self.local.root) as server:
            manifest = self.manifest(server.url)
            first = self.build(manifest)
            server.clear_log()
            second = self.build(manifest)
            index_requests = [e for e in server.log if "/dists/" in e[1]]
        lock_path = self.project / "image.lock"
        self.assertEqual(first["lock"], {"path": str(lock_path), "used": False, "written": True})
        self.assertEqual(second["lock"], {"path": str(lock_path), "used": True, "written": False})
        self.assertEqual(first["digest"], second["digest"])
        self.assertEqual(index_requests, [], "a build from the lock fetched indexes")
        lock = json.loads(lock_path.read_text())
        self.assertEqual(lock["lockfile_version"], 1)
        self.assertEqual(lock["manifest"]["files"], ["image.yaml"])
        self.assertRegex(lock["manifest"]["digest"], "^sha256:[0-9a-f]{64}$")
        self.assertEqual(lock["sources"][0]["release"], f"{server.url}/dists/bookworm/InRelease")
        self.assertEqual(lock["sources"][0]["signers"], [self.local.key.fingerprint])
        self.assertEqual(lock["sources"][0]["sha256"],
                         dt.sha256_file(self.local.root / "dists/bookworm/InRelease"))
        packages = {p["name"]: p for p in lock["archs"][0]["packages"]}
        self.assertEqual(sorted(packages), ["hello", "libhello1"])
        libhello1 = packages["libhello1"]
        self.assertEqual((libhello1["version"], libhello1["arch"], libhello1["suite"]),
                         ("1.0-1", "amd64", "bookworm"))
        self.assertEqual(libhello1["sha256"], dt.sha256_file(self.v1))
        self.assertEqual(libhello1["size"], self.v1.stat().st_size)
        self.assertTrue(libhello1["url"].endswith("/pool/main/libhello1_1.0-1_amd64.deb"))

    def test_frozen_refuses_a_changed_manifest_or_a_missing_lock(self):
        self.publish([self.app, self.v1])
        with dt.Server(self.local.root) as server:
            manifest = self.manifest(server.url)
            missing = self.build(manifest, "--frozen", check=8)
            self.assertIn("--frozen needs a lock", missing.stderr)
            self.build(manifest)
            self.manifest(server.url, "config:\n  labels:\n    team: platform\n")
            refused = self.build(manifest, "--frozen", check=8)
            self.assertIn("does not match", refused.stderr)
            self.assertIn("the manifest (or a manifest it includes) changed", refused.stderr)
            # Without --frozen the manifest is resolved again and the lock rewritten.
            rebuilt = self.build(manifest)
        self.assertTrue(rebuilt["lock"]["written"])
        self.assertFalse(rebuilt["lock"]["used"])

    def test_an_upgrade_between_two_index_snapshots(self):
        self.publish([self.app, self.v1], age_days=1)
        with dt.Server(self.local.root) as server:
            manifest = self.manifest(server.url)
            before = self.build(manifest)
            old_lock = self.scratch / "yesterday.lock"
            shutil.copy(self.project / "image.lock", old_lock)
            shutil.copytree(self.output, self.scratch / "yesterday")

            # The security update arrives: a new index snapshot.
            v2 = libhello(self.local.pool, "1.0-2")
            self.publish([self.app, self.v1, v2])
            # The lock still holds: the same versions, the same image.
            same = self.build(manifest)
            self.assertEqual(same["digest"], before["digest"])
            self.assertFalse(same["changed"])
            # The nightly job: update the lock, build exactly it.
            updated = self.distill("lock", "--update", manifest, check=0)
            self.assertIn("written", updated.stdout)
            after = self.build(manifest, "--frozen")
        self.assertNotEqual(after["digest"], before["digest"])
        self.assertTrue(after["changed"])
        self.assertEqual(after["previous_digest"], before["digest"])

        diff = json.loads(self.distill("diff", "--json", old_lock, self.project / "image.lock",
                                       check=0).stdout)
        change, = diff["archs"][0]["packages"]
        self.assertEqual((change["change"], change["name"], change["from"], change["to"]),
                         ("upgraded", "libhello1", "1.0-1", "1.0-2"))
        self.assertEqual(change["cves"], ["CVE-2099-0001", "CVE-2099-0002"])
        self.assertEqual(change["closes"], ["999999"])
        text = self.distill("diff", old_lock, self.project / "image.lock", check=0).stdout
        self.assertIn("libhello1 1.0-1 \u2192 1.0-2: CVE-2099-0001, CVE-2099-0002; closes #999999",
                      text)
        # Between the two images: the same, plus the files.
        images = json.loads(self.distill("diff", "--json", self.scratch / "yesterday",
                                         self.output, check=0).stdout)
        arch = images["archs"][0]
        self.assertEqual(arch["packages"][0]["cves"], ["CVE-2099-0001", "CVE-2099-0002"])
        self.assertIn("usr/lib/x86_64-linux-gnu/libhello.so.1", arch["files"]["changed"])
        self.assertIn("var/lib/dpkg/status", arch["files"]["changed"])
        self.assertEqual(images["digest"], {"before": before["digest"], "after": after["digest"]})
        print(text)

    def build_after_the_mirror_dropped_v1(self, forget, check):
        """Builds (writing the lock with libhello1 1.0-1), publishes 1.0-2 in its place as a
        security update does, lets `forget` drop some of the cache, and builds again."""
        self.publish([self.app, self.v1], age_days=1)
        with dt.Server(self.local.root) as server:
            manifest = self.manifest(server.url)
            self.build(manifest)
            v2 = libhello(self.local.pool, "1.0-2")
            self.publish([self.app, v2])
            forget()
            self.v1.unlink()  # replaced by the security update, as Debian does
            failed = self.build(manifest, check=check)
        self.assertIn("libhello1 1.0-1", failed.stderr)
        self.assertIn("the mirror no longer serves", failed.stderr)
        self.assertIn("distill lock --update", failed.stderr)
        self.assertNotIn("1.0-2", json.loads((self.project / "image.lock").read_text()).__str__())
        return failed

    def test_a_locked_version_the_mirror_dropped_is_an_error_with_the_old_index_cached(self):
        # The cache keeps the release file and index the lock was made from (they vouch for
        # it) but not the package file: the download is what fails.
        self.build_after_the_mirror_dropped_v1(
            lambda: (self.cache / "blobs" / "sha256" / dt.sha256_file(self.v1)).unlink(), 5)

    def test_a_locked_version_the_mirror_dropped_is_an_error(self):
        # A fresh machine: only the current index can vouch, and it has another version.
        failed = self.build_after_the_mirror_dropped_v1(lambda: shutil.rmtree(self.cache), 4)
        self.assertIn("libhello1 1.0-1, where the signed index has 1.0-2", failed.stderr)

    def test_the_same_digest_under_every_perturbation(self):
        dt.require_programs("faketime")
        self.publish([self.app, self.v1])
        digests = {}
        with dt.Server(self.local.root) as server:
            manifest = self.manifest(server.url)
            reference = self.build(manifest)["digest"]  # writes the lock
            elsewhere = self.scratch / "elsewhere" / "deep" / "dir"
            elsewhere.mkdir(parents=True)
            runs = {
                "warm cache, all threads": ([], {}, 0o022, None, "cache"),
                "cold cache": ([], {}, 0o022, None, "cold"),
                "-j1": (["-j1"], {}, 0o022, None, "cache"),
                "-j8": (["-j8"], {}, 0o022, None, "cache"),
                "TZ=Asia/Kolkata": ([], {"TZ": "Asia/Kolkata"}, 0o022, None, "cache"),
                "umask 077": ([], {}, 0o077, None, "cache"),
                "LANG=de_DE.UTF-8, LC_ALL=tr_TR.UTF-8": (
                    [], {"LANG": "de_DE.UTF-8", "LC_ALL": "tr_TR.UTF-8"}, 0o022, None, "cache"),
                "another build directory": ([], {}, 0o022, elsewhere, "cache"),
                "ten days later (faketime)": ([], {"FAKETIME": "+10d"}, 0o022, None, "cache"),
            }
            if os.environ.get("DISTILL_SANITIZER_EXIT_CODE"):
                # libfaketime and clang's AddressSanitizer wait on each other when both start
                # in one process; the plain build's run of this test covers that row.
                print("  (sanitizer build: the faketime row runs in the plain build only)")
                del runs["ten days later (faketime)"]
            for label, (args, env, umask, cwd, cache) in runs.items():
                command = [dt.binary(), "--cache-dir", self.scratch / cache, "-q", "build",
                           "--frozen", "--json", *args, "-o",
                           (cwd or self.scratch) / f"out-{len(digests)}", manifest]
                if "FAKETIME" in env:
                    command = ["faketime", "-f", env["FAKETIME"], *command]
                result = subprocess.run(command, capture_output=True, text=True, umask=umask,
                                        cwd=cwd, env={**os.environ, **env}, check=True)
                digests[label] = json.loads(result.stdout)["digest"]
            epoch = {"SOURCE_DATE_EPOCH": "1234567890"}
            fixed = [self.build(manifest, output=self.scratch / f"sde-{i}", env=epoch)
                     for i in range(2)]
        for label, digest in digests.items():
            print(f"  {label:40} {digest}")
            self.assertEqual(digest, reference, label)
        # SOURCE_DATE_EPOCH stamps another time: another digest, the same one every time.
        self.assertEqual(fixed[0]["digest"], fixed[1]["digest"])
        self.assertNotEqual(fixed[0]["digest"], reference)
        self.assertEqual(fixed[0]["epoch"], 1234567890)
        _, config, _ = dt.image_files(self.scratch / "sde-0")
        self.assertEqual(config["created"], "2009-02-13T23:31:30Z")
        print(f"  {'SOURCE_DATE_EPOCH=1234567890 (twice)':40} {fixed[0]['digest']}")

    def test_verify_rebuilds_and_names_the_first_difference(self):
        self.publish([self.app, self.v1])
        with dt.Server(self.local.root) as server:
            manifest = self.manifest(server.url)
            built = self.build(manifest)
            same = self.distill("verify", "--json", self.output, manifest, check=0)
            self.assertEqual(json.loads(same.stdout)["actual"], built["digest"])
            # Someone changed a file the image takes from the project, not the manifest.
            (self.project / "app.conf").write_text("greeting=bonjour\n")
            differs = self.distill("verify", self.output, manifest, check=9)
            no_lock = self.distill("verify", self.output, manifest, "--lock",
                                   self.scratch / "none.lock", check=8)
        self.assertIn("NOT reproduced", differs.stdout)
        self.assertIn("first difference: /etc/app.conf: layout has f mode 644", differs.stdout)
        self.assertIn("--frozen needs a lock", no_lock.stderr)
        leftovers = [p.name for p in self.output.parent.iterdir() if "distill" in p.name]
        self.assertEqual(leftovers, [])


if __name__ == "__main__":
    dt.main()
