"""Integration: examples/ci/nightly.sh end to end, against a signed repository made here whose
index gets a security update between two nights, pushing with distill into Debian's
docker-registry on 127.0.0.1 (whose access log shows what each night sent)."""

import hashlib
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import distill_test as dt  # noqa: E402
from registry_test import Registry  # noqa: E402
from test_lock import libhello  # noqa: E402

SCRIPT = dt.source_dir() / "examples" / "ci" / "nightly.sh"


class CiExample(dt.TestCase):
    def setUp(self):
        super().setUp()
        dt.require_programs("git", "skopeo", "bash", "docker-registry")
        self.local = dt.LocalRepo(self.scratch)
        self.app = dt.build_deb(self.local.pool, "hello", {"/usr/bin/hello": (b"\x7fELF hello", 0o755)},
                                Depends="libhello1 (>= 1.0)")
        self.project = self.scratch / "images"
        self.project.mkdir()
        for args in (["init", "-q"], ["config", "user.name", "tests"],
                     ["config", "user.email", "tests@distill.invalid"]):
            subprocess.run(["git", "-C", self.project, *args], check=True)
        (self.scratch / "registry").mkdir()
        self.registry = Registry(self.scratch / "registry").start()
        self.addCleanup(self.registry.stop)
        self.reference = f"{self.registry.host}/team/hello:nightly"
        self.summary = self.scratch / "summary.md"

    def publish(self, debs, when):
        self.local.publish(debs, when)

    def night(self):
        self.summary.write_text("")
        result = subprocess.run(
            ["bash", SCRIPT, "hello.yaml", self.reference],
            cwd=self.project, capture_output=True, text=True,
            env={**os.environ, "DISTILL": dt.binary(), "GITHUB_STEP_SUMMARY": str(self.summary),
                 "XDG_CACHE_HOME": str(self.cache)})
        self.assertEqual(result.returncode, 0, result.stderr[-3000:])
        return result.stdout, self.summary.read_text()

    def commits(self):
        log = subprocess.run(["git", "-C", self.project, "log", "--format=%s%n%b%x00"],
                             capture_output=True, text=True)
        return [c.strip() for c in log.stdout.split("\0") if c.strip()]

    def published_digest(self):
        """What `nightly` names in the registry, read by skopeo."""
        raw = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false",
                              f"docker://{self.reference}"],
                             capture_output=True, check=True, timeout=120).stdout
        return "sha256:" + hashlib.sha256(raw).hexdigest()

    def sent(self):
        """The uploads and manifest PUTs the registry completed so far."""
        return (self.registry.requests("POST", "/team/hello/blobs/uploads/"),
                self.registry.requests("PUT", "/team/hello/manifests/"))

    def test_three_nights(self):
        yesterday = datetime.now(timezone.utc) - timedelta(days=1)
        self.publish([self.app, libhello(self.local.pool, "1.0-1")], yesterday)
        with dt.Server(self.local.root) as server:
            dt.write_manifest(self.project / "hello.yaml", "hello",
                              [{"url": server.url, "keyring": self.local.key.keyring}], ["hello"])
            subprocess.run(["git", "-C", self.project, "add", "hello.yaml"], check=True)
            subprocess.run(["git", "-C", self.project, "commit", "-qm", "hello image"], check=True)

            # Night 1: the first build is published and its lock committed.
            _, summary = self.night()
            first = self.published_digest()
            self.assertIn(f"pushed `{first}`", summary)
            # Blobs: the layer, the config, the two SBOMs and their artifacts' empty config.
            # Manifests: the image's by digest, the two SBOM artifacts and the referrers tag
            # that lists them (updated once for each), then the tag.
            self.assertEqual(self.sent(), (5, 6))
            self.assertEqual(len(self.commits()), 2)
            self.assertIn(f"nightly: hello {first}", self.commits()[0])

            # Night 2: nothing changed in Debian: nothing published, nothing committed.
            out, summary = self.night()
            self.assertIn("unchanged", summary)
            self.assertIn(f"already name `{first}`", summary)
            self.assertEqual(self.published_digest(), first)
            self.assertEqual(self.sent(), (5, 6))
            self.assertEqual(len(self.commits()), 2)

            # Night 3: a security update: published, with its CVEs in the summary and the commit.
            self.publish([self.app, libhello(self.local.pool, "1.0-1"), libhello(self.local.pool, "1.0-2")],
                         datetime.now(timezone.utc))
            _, summary = self.night()
        third = self.published_digest()
        self.assertNotEqual(third, first)
        self.assertIn(f"pushed `{third}`", summary)
        self.assertEqual(self.sent(), (9, 12))
        self.assertIn("libhello1 1.0-1 \u2192 1.0-2: CVE-2099-0001, CVE-2099-0002", summary)
        self.assertEqual(len(self.commits()), 3)
        self.assertIn("CVE-2099-0001", self.commits()[0])
        lock = json.loads((self.project / "hello.lock").read_text())
        versions = {p["name"]: p["version"] for p in lock["archs"][0]["packages"]}
        self.assertEqual(versions["libhello1"], "1.0-2")
        print(summary)


if __name__ == "__main__":
    dt.main()
