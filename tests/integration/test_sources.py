"""Integration: the real binary against signed apt repositories served on 127.0.0.1.

The mopidy repository (../shared/testdata/deb/mopidy-repo) is a real third-party archive; its
packages depend on Debian packages it does not carry, so a second repository, crafted and
signed here with a throwaway key, stands in for Debian.
"""

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
import distill_test as dt  # noqa: E402

MOPIDY_KEY = "9E36464A7C030945EEB7632878FD980E271D2943"
DEBIAN_12_KEY = "B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8"

# What the mopidy packages need from Debian, as a crafted stand-in archive.
DEBIAN_STANDIN = [
    {"Package": name, "Version": version, "Architecture": arch, "Filename":
     f"pool/main/{name[0]}/{name}/{name}_{version}_{arch}.deb", "Size": "1000",
     "SHA256": "0" * 64, **extra}
    for name, version, arch, extra in [
        ("adduser", "3.134", "all", {}),
        ("debconf", "1.5.82", "all", {"Provides": "debconf-2.0"}),
        ("gir1.2-gst-plugins-base-1.0", "1.22.0-3", "amd64", {}),
        ("gir1.2-gstreamer-1.0", "1.22.0-2", "amd64", {}),
        ("gstreamer1.0-plugins-good", "1.22.0-5", "amd64", {}),
        ("gstreamer1.0-plugins-ugly", "1.22.0-2", "amd64", {}),
        ("python3-gst-1.0", "1.22.0-1", "amd64", {"Depends": "python3 (>= 3.11)"}),
        ("python3-tornado", "6.2.0-3", "amd64", {"Depends": "python3:any"}),
        ("python3-pkg-resources", "66.1.1-1", "all", {"Depends": "python3:any"}),
        ("python3-pykka", "3.1.1-1", "all", {"Depends": "python3:any"}),
        ("python3-requests", "2.28.1+dfsg-1", "all", {"Depends": "python3:any"}),
        ("python3", "3.11.2-1+b1", "amd64", {"Multi-Arch": "allowed",
                                             "Depends": "libpython3-stdlib"}),
        ("libpython3-stdlib", "3.11.2-1+b1", "amd64", {}),
    ]
]


class Sources(dt.TestCase):
    def setUp(self):
        super().setUp()
        self.mopidy = self.scratch / "mopidy"
        shutil.copytree(dt.testdata("deb/mopidy-repo"), self.mopidy)
        self.mopidy_keyring = self.mopidy / "mopidy-archive-keyring.gpg"
        self.key = dt.SigningKey(self.scratch / "key")
        self.standin = self.scratch / "standin"
        dt.write_repo(self.standin, "bookworm", {"main": DEBIAN_STANDIN}, self.key)

    def manifest(self, mopidy_url, standin_url=None, packages=("mopidy-mpd", "python3"),
                 keyring=None):
        sources = [{"url": mopidy_url, "keyring": keyring or self.mopidy_keyring}]
        if standin_url:
            sources.append({"url": standin_url, "keyring": self.key.keyring})
        return dt.write_manifest(self.scratch / "mopidy.yaml", "mopidy", sources, packages)

    def test_signed_repository_resolves_and_verifies(self):
        with dt.Server(self.mopidy) as mopidy, dt.Server(self.standin) as standin:
            manifest = self.manifest(mopidy.url, standin.url)
            result = self.distill("-v", "plan", "--json", manifest, check=0)
        plan = json.loads(result.stdout)
        self.assertEqual(plan["arch"], "amd64")
        packages = {p["name"]: p for p in plan["packages"]}
        for name in ("mopidy-mpd", "mopidy", "python3-pykka", "python3-gst-1.0", "python3"):
            self.assertIn(name, packages)
        # The URL, size and hash come from the verified index and match the real file.
        mopidy_deb = self.mopidy / "pool/main/m/mopidy/mopidy_3.4.2-2_all.deb"
        self.assertEqual(packages["mopidy"]["url"],
                         f"{mopidy.url}/pool/main/m/mopidy/mopidy_3.4.2-2_all.deb")
        self.assertEqual(packages["mopidy"]["sha256"], dt.sha256_file(mopidy_deb))
        self.assertEqual(packages["mopidy"]["download_size"], mopidy_deb.stat().st_size)
        self.assertEqual(packages["mopidy"]["why"], ["mopidy-mpd", "mopidy"])
        self.assertEqual(packages["mopidy"]["suite"], "bookworm")
        # adduser and debconf are maintainer-script helpers: satisfied, not installed.
        excluded = {e["name"]: e for e in plan["excluded"]}
        self.assertEqual(set(excluded), {"adduser", "debconf"})
        self.assertEqual(excluded["debconf"]["wanted_by"], ["mopidy"])
        self.assertNotIn("adduser", packages)
        # Both signatures were checked, by the keys expected.
        self.assertIn(f"verified (signed by {MOPIDY_KEY})", result.stderr)
        self.assertIn(f"verified (signed by {self.key.fingerprint})", result.stderr)

    def test_two_runs_at_once_share_one_cache(self):
        with dt.Server(self.mopidy) as mopidy, dt.Server(self.standin) as standin:
            manifest = self.manifest(mopidy.url, standin.url)
            runs = [subprocess.Popen([dt.binary(), "--cache-dir", str(self.cache), "plan",
                                      "--json", str(manifest)], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True) for _ in range(4)]
            outputs = [run.communicate(timeout=300) for run in runs]
        for run, (out, err) in zip(runs, outputs):
            self.assertEqual(run.returncode, 0, err)
        self.assertTrue(all(json.loads(out) == json.loads(outputs[0][0]) for out, _ in outputs))
        # Every cached blob is whole: its name is its hash; no temporary file is left.
        for blob in (self.cache / "blobs" / "sha256").iterdir():
            self.assertEqual(blob.name, dt.sha256_file(blob))

    def test_several_architectures_give_an_array(self):
        standin = self.scratch / "standin2"
        dt.write_repo(standin, "bookworm", {"main": [dict(p, Architecture="all")
                                                     for p in DEBIAN_STANDIN]},
                      self.key, archs=("amd64", "arm64"))
        with dt.Server(self.mopidy) as mopidy, dt.Server(standin) as standin_server:
            manifest = self.manifest(mopidy.url, standin_server.url)
            result = self.distill("plan", "--json", "--arch", "amd64", "--arch", "arm64", manifest,
                                  check=0)
            text = self.distill("plan", "--arch", "amd64", "--arch", "arm64", manifest, check=0)
        plans = json.loads(result.stdout)
        self.assertEqual([p["arch"] for p in plans], ["amd64", "arm64"])
        self.assertEqual(len(plans[0]["packages"]), len(plans[1]["packages"]))
        self.assertIn("mopidy (debian bookworm, amd64)", text.stdout)
        self.assertIn("mopidy (debian bookworm, arm64)", text.stdout)

    def test_missing_debian_dependencies_are_explained(self):
        with dt.Server(self.mopidy) as mopidy:
            result = self.distill("plan", self.manifest(mopidy.url, packages=["mopidy"]), check=6)
        self.assertIn("cannot resolve mopidy for amd64", result.stderr)
        self.assertIn("which no source provides", result.stderr)

    def test_warm_run_downloads_no_unchanged_index(self):
        with dt.Server(self.mopidy) as mopidy, dt.Server(self.standin) as standin:
            manifest = self.manifest(mopidy.url, standin.url)
            cold = self.distill("plan", "--json", manifest, check=0)
            self.assertEqual(len(mopidy.requests_for("/Packages.gz")), 1)
            self.assertIn("2 release files checked (0 not modified), 2 indexes downloaded, "
                          "0 from cache", cold.stderr)
            mopidy.clear_log()
            standin.clear_log()
            warm = self.distill("plan", "--json", manifest, check=0)
            # InRelease is asked for conditionally and not sent again; no index is requested.
            self.assertEqual([code for _, _, code in mopidy.log], [304])
            self.assertEqual([code for _, _, code in standin.log], [304])
            self.assertIn("2 release files checked (2 not modified), 0 indexes downloaded, "
                          "2 from cache, 0 B downloaded", warm.stderr)
        self.assertEqual(json.loads(cold.stdout), json.loads(warm.stdout))

    def test_changed_repository_is_downloaded_again(self):
        with dt.Server(self.mopidy) as mopidy, dt.Server(self.standin) as standin:
            manifest = self.manifest(mopidy.url, standin.url)
            self.distill("plan", manifest, check=0)
            upgraded = [dict(p) for p in DEBIAN_STANDIN]
            for p in upgraded:
                if p["Package"] == "python3-pykka":
                    p["Version"] = "3.1.2-1"
            later = datetime.now(timezone.utc) + timedelta(minutes=1)
            dt.write_repo(self.standin, "bookworm", {"main": upgraded}, self.key, date=later)
            # Make sure the file looks modified to If-Modified-Since (1 s resolution).
            stamp = os.stat(self.standin / "dists/bookworm/InRelease").st_mtime + 2
            os.utime(self.standin / "dists/bookworm/InRelease", (stamp, stamp))
            result = self.distill("plan", "--json", manifest, check=0)
        packages = {p["name"]: p for p in json.loads(result.stdout)["packages"]}
        self.assertEqual(packages["python3-pykka"]["version"], "3.1.2-1")

    def test_rollback_to_an_older_release_is_refused(self):
        old = self.scratch / "old-InRelease"
        shutil.copy(self.standin / "dists/bookworm/InRelease", old)
        with dt.Server(self.mopidy) as mopidy, dt.Server(self.standin) as standin:
            manifest = self.manifest(mopidy.url, standin.url)
            later = datetime.now(timezone.utc) + timedelta(minutes=1)
            dt.write_repo(self.standin, "bookworm", {"main": DEBIAN_STANDIN}, self.key, date=later)
            self.distill("plan", manifest, check=0)
            shutil.copy(old, self.standin / "dists/bookworm/InRelease")
            stamp = os.stat(old).st_mtime + 3600
            os.utime(self.standin / "dists/bookworm/InRelease", (stamp, stamp))
            result = self.distill("plan", manifest, check=4)
        self.assertIn("refusing a rollback", result.stderr)

    def test_tampered_inrelease_fails(self):
        inrelease = self.mopidy / "dists/bookworm/InRelease"
        inrelease.write_text(inrelease.read_text().replace("Origin: Mopidy", "Origin: Mallory"))
        with dt.Server(self.mopidy) as mopidy:
            result = self.distill("plan", self.manifest(mopidy.url), check=4)
        self.assertIn(f"{mopidy.url}/dists/bookworm/InRelease", result.stderr)
        self.assertIn("BAD signature", result.stderr)
        self.assertFalse((self.cache / "urls").exists() and any((self.cache / "urls").iterdir()),
                         "an unverified InRelease must not be recorded in the cache")

    def test_wrong_key_fails(self):
        with dt.Server(self.mopidy) as mopidy:
            result = self.distill("plan", self.manifest(mopidy.url, keyring=self.key.keyring),
                                  check=4)
        self.assertIn(f"{mopidy.url}/dists/bookworm/InRelease", result.stderr)
        self.assertIn("which keyring", result.stderr)
        self.assertIn("does not hold", result.stderr)

    def test_expired_valid_until_fails(self):
        yesterday = datetime.now(timezone.utc) - timedelta(days=1)
        dt.write_repo(self.standin, "bookworm", {"main": DEBIAN_STANDIN}, self.key,
                      date=yesterday - timedelta(days=7), valid_until=yesterday)
        with dt.Server(self.mopidy) as mopidy, dt.Server(self.standin) as standin:
            result = self.distill("plan", self.manifest(mopidy.url, standin.url), check=4)
        self.assertIn(f"{standin.url}/dists/bookworm/InRelease: expired", result.stderr)

    def test_release_for_another_suite_fails(self):
        dt.write_repo(self.standin, "bookworm", {"main": DEBIAN_STANDIN}, self.key,
                      codename="trixie", extra_fields={"Suite": "trixie"})
        with dt.Server(self.mopidy) as mopidy, dt.Server(self.standin) as standin:
            result = self.distill("plan", self.manifest(mopidy.url, standin.url), check=4)
        self.assertIn('is for suite "trixie" (codename "trixie"), not "bookworm"', result.stderr)

    def test_packages_with_wrong_hash_fails_and_is_not_cached(self):
        packages_gz = self.mopidy / "dists/bookworm/main/binary-amd64/Packages.gz"
        data = bytearray(packages_gz.read_bytes())
        data[len(data) // 2] ^= 0x01  # same size, different content
        packages_gz.write_bytes(bytes(data))
        bad_sha = dt.sha256_file(packages_gz)
        with dt.Server(self.mopidy) as mopidy:
            result = self.distill("plan", self.manifest(mopidy.url), check=4)
        self.assertIn(f"{mopidy.url}/dists/bookworm/main/binary-amd64/Packages.gz: sha256 mismatch",
                      result.stderr)
        blobs = self.cache / "blobs" / "sha256"
        self.assertFalse((blobs / bad_sha).exists())
        self.assertEqual([p.name for p in blobs.iterdir() if p.name.startswith(".")], [],
                         "no temporary file may be left behind")

    def test_unknown_suite_is_a_clear_error(self):
        with dt.Server(self.mopidy) as mopidy:
            manifest = dt.write_manifest(
                self.scratch / "m.yaml", "m",
                [{"url": mopidy.url, "suites": ["bullseye"], "keyring": self.mopidy_keyring}],
                ["mopidy"])
            result = self.distill("plan", manifest, check=3)
        # The mirror answered: the manifest names a suite it does not have, at this entry.
        line = next(number for number, text in enumerate(manifest.read_text().splitlines(), 1)
                    if "suites: [bullseye]" in text)
        self.assertIn(f"{manifest}:{line}:14: suite `bullseye`: {mopidy.url} has no such suite "
                      f"({mopidy.url}/dists/bullseye/InRelease: not found, HTTP 404)",
                      result.stderr)

    def test_inrelease_with_three_signatures_verifies_with_one_key(self):
        # Debian 12.5's InRelease carries three signatures; only the 12/bookworm archive key
        # (armored, as Debian publishes it) is given. Its Packages files are not part of the
        # fixture, so the run ends at the first index download, after verification passed.
        repo = self.scratch / "debian"
        (repo / "dists/bookworm").mkdir(parents=True)
        shutil.copy(dt.testdata("deb/debian-bookworm-12.5/InRelease"),
                    repo / "dists/bookworm/InRelease")
        with dt.Server(repo) as server:
            manifest = dt.write_manifest(
                self.scratch / "debian.yaml", "debian",
                [{"url": server.url, "keyring": dt.testdata("deb/debian-bookworm-12.5/archive-key-12.asc")}],
                ["base-files"])
            result = self.distill("-v", "plan", manifest, check=5)
        self.assertIn(f"verified (signed by {DEBIAN_12_KEY})", result.stderr)
        self.assertIn("main/binary-amd64/Packages.xz", result.stderr)
        self.assertIn("HTTP 404", result.stderr)


if __name__ == "__main__":
    dt.main()
