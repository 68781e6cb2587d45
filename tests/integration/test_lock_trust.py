"""Integration: a lock pins versions, it does not vouch for them. Edits to the lock alone (a
pull request touching only NAME.lock) are refused in default and --frozen mode, naming the
package: a URL on another server, a swapped hash, a package added or left out. A lock the
signed indexes do vouch for builds warm with the mirror gone, and on a fresh cache from the
mirror's current indexes. Signed repositories made here, served on 127.0.0.1."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
import distill_test as dt  # noqa: E402

# What every refusal says, besides the package it names.
ADVICE = "distill lock --update"


def served(deb, root, url):
    """The lock fields of the .deb `deb` under the repository `root` served at `url`."""
    return {"url": f"{url}/{Path(deb).relative_to(root)}", "sha256": dt.sha256_file(deb),
            "size": Path(deb).stat().st_size}


class LockTrust(dt.TestCase):
    def setUp(self):
        super().setUp()
        self.local = dt.LocalRepo(self.scratch / "repo")
        self.project = self.scratch / "project"
        self.project.mkdir()
        self.output = self.scratch / "out" / "image"
        self.hello, self.lib = dt.hello_and_library(self.local.pool)
        # In the signed index, but nothing the manifest asks for needs it.
        self.shell = dt.build_deb(self.local.pool, "sh-tools",
                                  {"/usr/bin/sh-tools": (b"#!/bin/sh\necho pwned\n", 0o755)})
        self.local.publish([self.hello, self.lib, self.shell])
        self.lock_path = self.project / "image.lock"

    def manifest(self, url):
        return dt.write_manifest(self.project / "image.yaml", "hello",
                                 [{"url": url, "keyring": self.local.key.keyring}], ["hello"])

    def build(self, manifest, *args, cache=None, check=None):
        command = ["build", "-o", self.output, *args, manifest]
        if cache is not None:
            return dt.run(["--cache-dir", cache, *command], check=check)
        return self.distill(*command, check=check)

    def edit_lock(self, edit):
        lock = json.loads(self.lock_path.read_text())
        edit(lock["archs"][0]["packages"])
        self.lock_path.write_text(json.dumps(lock, indent=2))

    def assert_refused_in_both_modes(self, manifest, *fragments):
        """The build from the edited lock fails with exit code 4, default and --frozen, says
        `fragments` and the advice, and leaves the previous image as it was."""
        image_before = (self.output / "index.json").read_bytes()
        for mode in ([], ["--frozen"]):
            with self.subTest(mode=mode):
                result = self.build(manifest, *mode)
                self.assertEqual(result.returncode, 4, result.stderr)
                for fragment in (*fragments, ADVICE, "image.lock"):
                    self.assertIn(fragment, result.stderr)
                self.assertEqual((self.output / "index.json").read_bytes(), image_before)

    def test_a_url_on_another_server_is_refused(self):
        # The attacker's file: the same name and version, other content, served elsewhere,
        # with its true hash and size in the lock so that the download itself would check out.
        evil_repo = dt.LocalRepo(self.scratch / "evil")
        evil = dt.build_deb(evil_repo.pool, "libhello1",
                            {"/usr/lib/libhello.so.1": b"\x7fELF backdoored"})
        with dt.Server(self.local.root) as server, dt.Server(evil_repo.root) as elsewhere:
            manifest = self.manifest(server.url)
            self.build(manifest, check=0)

            def edit(packages):
                for package in packages:
                    if package["name"] == "libhello1":
                        package.update(served(evil, evil_repo.root, elsewhere.url))
            self.edit_lock(edit)
            self.assert_refused_in_both_modes(manifest, "libhello1")
            self.assertEqual(elsewhere.log, [], "nothing may be fetched from the other server")

    def test_a_swapped_hash_is_refused_before_anything_is_fetched(self):
        with dt.Server(self.local.root) as server:
            manifest = self.manifest(server.url)
            self.build(manifest, check=0)

            def edit(packages):
                for package in packages:
                    if package["name"] == "libhello1":
                        package["sha256"] = "0" * 64
            self.edit_lock(edit)
            self.assert_refused_in_both_modes(manifest, "libhello1", "SHA-256")

    def test_an_added_package_is_refused(self):
        with dt.Server(self.local.root) as server:
            manifest = self.manifest(server.url)
            self.build(manifest, check=0)

            def edit(packages):
                added = dict(packages[0])
                added.update(name="sh-tools", version="1.0-1", source="sh-tools",
                             **served(self.shell, self.local.root, server.url))
                packages.append(added)
                packages.sort(key=lambda p: p["name"])
            self.edit_lock(edit)
            self.assert_refused_in_both_modes(manifest, "sh-tools", "does not need")

    def test_a_package_left_out_is_refused(self):
        with dt.Server(self.local.root) as server:
            manifest = self.manifest(server.url)
            self.build(manifest, check=0)
            self.edit_lock(lambda packages: packages.remove(
                next(p for p in packages if p["name"] == "libhello1")))
            self.assert_refused_in_both_modes(manifest, "libhello1", "leaves out")

    def test_a_lock_the_indexes_vouch_for_builds_warm_offline_and_on_a_fresh_cache(self):
        with dt.Server(self.local.root) as server:
            manifest = self.manifest(server.url)
            self.build(manifest, check=0)
            digest = json.loads((self.output / "index.json").read_text())["manifests"][0]["digest"]
            # A fresh machine: nothing cached, the mirror's current indexes vouch.
            fresh = self.build(manifest, "--frozen", cache=self.scratch / "fresh", check=0)
            self.assertIn("using the lock", fresh.stderr)
        # The mirror is gone: the cache holds the release file the lock names, verified again.
        warm = self.build(manifest, "--frozen", check=0)
        self.assertIn("1 from the cache as the lock names them", warm.stderr)
        self.assertEqual(
            json.loads((self.output / "index.json").read_text())["manifests"][0]["digest"],
            digest)

    def test_the_cached_release_file_is_checked_against_the_lock(self):
        with dt.Server(self.local.root) as server:
            manifest = self.manifest(server.url)
            self.build(manifest, check=0)
        lock = json.loads(self.lock_path.read_text())
        release = self.cache / "blobs" / "sha256" / lock["sources"][0]["sha256"]
        self.assertTrue(release.is_file(), release)
        # A damaged copy is not used: with the mirror gone there is nothing that vouches.
        release.write_bytes(release.read_bytes().replace(b"Suite", b"Suitf", 1))
        result = self.build(manifest, "--frozen")
        self.assertNotEqual(result.returncode, 0, result.stderr)
        self.assertIn("damaged", result.stderr)


if __name__ == "__main__":
    dt.main()
