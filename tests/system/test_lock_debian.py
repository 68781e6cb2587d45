"""System: lock and build java17 from the real Debian mirror, and the diff between a lock of
the bookworm suite alone and one that also takes bookworm-security and bookworm-updates: the
packages that moved, with the real CVE identifiers from their Debian changelogs."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
import distill_test as dt  # noqa: E402

MANIFESTS = dt.source_dir() / "manifests"


class LockDebian(dt.TestCase):
    def test_lock_build_and_the_security_diff(self):
        current = self.write("java17.yaml", f"include: {MANIFESTS / 'java17.yaml'}\n"
                                            "name: java17\n")
        # The same image as if bookworm had had no point releases or security updates.
        released = self.write("java17-release.yaml",
                              f"include: {MANIFESTS / 'java17.yaml'}\nname: java17\n"
                              "sources:\n  - suites: [bookworm]\n")
        self.distill("lock", current, check=0)
        self.distill("lock", released, check=0)
        lock = json.loads((self.scratch / "java17.lock").read_text())
        suites = {p["suite"] for p in lock["archs"][0]["packages"]}
        self.assertIn("bookworm-security", suites)
        self.assertEqual(len(lock["sources"]), 3)
        for source in lock["sources"]:
            self.assertRegex(source["sha256"], "^[0-9a-f]{64}$")
            self.assertTrue(source["signers"], source)

        built = json.loads(self.distill("build", "--json", "-o", self.scratch / "out", current,
                                        check=0).stdout)
        self.assertTrue(built["lock"]["used"])
        again = json.loads(self.distill("build", "--frozen", "--json", "-o",
                                        self.scratch / "out", current, check=0).stdout)
        self.assertEqual(again["digest"], built["digest"])
        self.assertFalse(again["changed"])

        text = self.distill("diff", self.scratch / "java17-release.lock",
                            self.scratch / "java17.lock", check=0).stdout
        print(text)
        diff = json.loads(self.distill("diff", "--json", self.scratch / "java17-release.lock",
                                       self.scratch / "java17.lock", check=0).stdout)
        upgraded = {c["name"]: c for c in diff["archs"][0]["packages"] if c["change"] == "upgraded"}
        self.assertIn("openjdk-17-jre-headless", upgraded)
        self.assertIn("libssl3", upgraded)
        for name in ("openjdk-17-jre-headless", "libssl3"):
            self.assertTrue(upgraded[name]["cves"], upgraded[name])
            for cve in upgraded[name]["cves"]:
                self.assertRegex(cve, r"^CVE-\d{4}-\d{4,}$")
            self.assertNotIn("changelog_note", upgraded[name])
            self.assertIn(upgraded[name]["to"], upgraded[name]["changelog_versions"])
        # Every versioned change line names its versions, and CVEs where the changelog has them.
        self.assertRegex(text, r"libssl3 \S+ \u2192 \S+: CVE-\d{4}-\d+")
        with_cves = sum(1 for c in upgraded.values() if c["cves"])
        print(f"{len(upgraded)} packages moved, {with_cves} with CVE ids, "
              f"{sum(len(c['cves']) for c in upgraded.values())} CVE ids in all")


if __name__ == "__main__":
    dt.main()
