"""Integration: the mistakes a new user makes get answers in the user's terms, against a signed
repository served on 127.0.0.1: a release that does not exist is a manifest error at the
`release:` line with the releases the mirror does have; a package that only a component the
manifest does not use has says which one and how to add it; a package whose content its
maintainer script downloads at install time is named in a warning."""

import json
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
import distill_test as dt  # noqa: E402

# What the postinst of an installer package does: fetch its content at install time.
DOWNLOADING_POSTINST = """#!/bin/sh
set -e
# Fonts are not redistributable; fetch them from the vendor.
if [ "$1" = configure ]; then
    wget --tries=1 -O /tmp/fonts.cab https://fonts.example.invalid/fonts.cab
    cabextract -d /usr/share/fonts/truetype/vendor /tmp/fonts.cab
fi
"""


def position(manifest, text):
    """file:line:column of the first occurrence of `text` in the manifest."""
    for number, line in enumerate(Path(manifest).read_text().splitlines(), start=1):
        if text in line:
            return f"{manifest}:{number}:{line.index(text) + 1}"
    raise AssertionError(f"{text!r} is not in {manifest}")


def closed_port():
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class UserErrors(dt.TestCase):
    def setUp(self):
        super().setUp()
        self.local = dt.LocalRepo(self.scratch)
        pool = self.local.pool
        contrib = self.local.root / "pool" / "contrib"
        contrib.mkdir(parents=True)
        self.debs = {
            "hello": dt.build_deb(pool, "hello", {"/usr/bin/hello": (b"#!hello\n", 0o755)}),
            "wget": dt.build_deb(pool, "wget", {"/usr/bin/wget": (b"#!wget\n", 0o755)}),
            # Only a postinst that downloads its content, and its checksums.
            "corefonts-installer": dt.build_deb(
                pool, "corefonts-installer",
                {"/var/lib/corefonts/fonts.sha256sums": "0" * 64 + "  fonts.cab\n",
                 "/usr/share/fonts/truetype/vendor": ("dir", 0o755)},
                arch="all", Depends="wget", scripts={"postinst": DOWNLOADING_POSTINST}),
        }
        self.contrib = [dt.build_deb(contrib, "fonts-vendor",
                                     {"/usr/share/fonts/vendor.ttf": b"font"}, arch="all")]
        self.local.publish(self.debs.values(), others={"contrib": self.contrib})

    def manifest(self, url, packages=("hello",), release="bookworm", **source):
        return dt.write_manifest(self.scratch / "app.yaml", "app",
                                 [{**self.local.source(url), **source}], list(packages),
                                 release=release)

    # --- a release or suite the mirror does not have ------------------------------------

    def test_a_misspelt_release_is_a_manifest_error_with_the_releases_the_mirror_has(self):
        with dt.Server(self.local.root) as server:
            manifest = self.manifest(server.url, release="bookwrom", suites=None)
            result = self.distill("plan", manifest, check=3)
        where = position(manifest, "bookwrom")
        self.assertIn(f"{where}: release `bookwrom`: {server.url} has no such release "
                      f"({server.url}/dists/bookwrom/InRelease: not found, HTTP 404)",
                      result.stderr)
        self.assertIn("hint: did you mean bookworm?", result.stderr)
        self.assertNotIn("download", result.stderr.lower())
        # bookworm was confirmed by asking for its release file's headers, not its body.
        self.assertIn(("HEAD", "/dists/bookworm/InRelease", 200), server.log)
        self.assertNotIn(("GET", "/dists/bookworm/InRelease", 200), server.log)
        print(result.stderr.strip().splitlines()[-2:])

    def test_a_misspelt_release_in_build_is_the_same_manifest_error(self):
        with dt.Server(self.local.root) as server:
            manifest = self.manifest(server.url, release="bookwrom", suites=None)
            result = self.distill("build", "-o", self.scratch / "out", manifest, check=3)
        self.assertIn(f"{position(manifest, 'bookwrom')}: release `bookwrom`", result.stderr)
        self.assertIn("did you mean bookworm?", result.stderr)
        self.assertFalse((self.scratch / "out").exists())

    def test_a_release_nothing_resembles_gets_no_guess(self):
        with dt.Server(self.local.root) as server:
            manifest = self.manifest(server.url, release="plumtree", suites=None)
            result = self.distill("plan", manifest, check=3)
        self.assertIn(f"{position(manifest, 'plumtree')}: release `plumtree`", result.stderr)
        self.assertNotIn("did you mean", result.stderr)
        self.assertEqual([entry for entry in server.log if entry[0] == "HEAD"], [])

    def test_a_misspelt_suite_points_at_the_suites_entry(self):
        with dt.Server(self.local.root) as server:
            manifest = self.manifest(server.url, suites=["bookwrom"])
            result = self.distill("plan", manifest, check=3)
        where = position(manifest, "bookwrom")
        self.assertNotEqual(where, position(manifest, "release:"))
        self.assertIn(f"{where}: suite `bookwrom`: {server.url} has no such suite", result.stderr)
        self.assertIn("hint: did you mean bookworm?", result.stderr)

    def test_a_default_suite_the_mirror_lacks_says_how_to_name_the_suites(self):
        # The repository has bookworm only: bookworm-updates, a default, is not there.
        with dt.Server(self.local.root) as server:
            manifest = self.manifest(server.url, suites=None)
            result = self.distill("plan", manifest, check=3)
        self.assertIn(f"{position(manifest, 'bookworm')}: release `bookworm`: {server.url} has "
                      f"no suite bookworm-updates", result.stderr)
        self.assertIn("hint: name the suites the release has under sources, e.g. "
                      "`suites: [bookworm]`", result.stderr)

    def test_an_unreachable_mirror_is_still_a_download_failure(self):
        url = f"http://127.0.0.1:{closed_port()}"
        manifest = self.manifest(url, release="bookwrom", suites=None)
        result = self.distill("plan", manifest, check=5)
        self.assertIn(f"{url}/dists/bookwrom/InRelease", result.stderr)
        self.assertNotIn("did you mean", result.stderr)

    # --- a package in a component the manifest does not use ---------------------------

    def test_a_package_only_in_contrib_names_the_component_and_how_to_add_it(self):
        with dt.Server(self.local.root) as server:
            manifest = self.manifest(server.url, packages=["fonts-vendor"])
            result = self.distill("plan", manifest, check=6)
            hint = (f"hint: fonts-vendor is in contrib of bookworm, which this manifest does not "
                    f"use; add it with `components: [main, contrib]` under sources (the source "
                    f"at {position(manifest, 'url:')})")
            self.assertIn("no package named fonts-vendor in bookworm/main", result.stderr)
            self.assertIn(hint, result.stderr)
            # The contrib index was fetched to say so, verified against the signed release.
            self.assertTrue(server.requests_for("contrib/binary-amd64/Packages.xz"))

            json_result = self.distill("plan", "--json", manifest, check=6)
            problems = json.loads(json_result.stdout)["problems"]
            self.assertEqual(problems[0]["hint"], hint.removeprefix("hint: "))

            build = self.distill("build", "-o", self.scratch / "out", manifest, check=6)
            self.assertIn(hint, build.stderr)

            # The hint is right: with contrib the package resolves.
            fixed = self.manifest(server.url, packages=["fonts-vendor"],
                                  components=["main", "contrib"])
            plan = json.loads(self.distill("plan", "--json", fixed, check=0).stdout)
        self.assertEqual([p["name"] for p in plan["packages"]], ["fonts-vendor"])
        print(hint)

    def test_other_components_are_not_downloaded_when_nothing_is_missing(self):
        with dt.Server(self.local.root) as server:
            self.distill("plan", self.manifest(server.url), check=0)
            self.assertEqual(server.requests_for("contrib/binary-amd64/Packages.xz"), [])
            self.assertTrue(server.requests_for("main/binary-amd64/Packages.xz"))

    def test_a_package_no_component_has_keeps_its_plain_answer(self):
        with dt.Server(self.local.root) as server:
            result = self.distill("plan", self.manifest(server.url, packages=["helo"]), check=6)
        self.assertIn("no package named helo in bookworm/main", result.stderr)
        self.assertIn("did you mean hello?", result.stderr)
        self.assertNotIn("hint:", result.stderr)

    # --- a package whose content its maintainer script makes --------------------------

    def test_plan_warns_about_an_installer_package(self):
        with dt.Server(self.local.root) as server:
            manifest = self.manifest(server.url, packages=["hello", "corefonts-installer"])
            text = self.distill("plan", manifest, check=0)
            result = self.distill("plan", "--json", manifest, check=0)
        warning = ("corefonts-installer looks like an installer package (it depends on wget and "
                   "calls itself an installer): what its maintainer scripts would download or "
                   "make at install time will not be in the image")
        self.assertIn(f"distill: warning: amd64: {warning}", text.stderr)
        plan = json.loads(result.stdout)
        self.assertEqual(len(plan["warnings"]), 1)
        self.assertIn(warning, plan["warnings"][0])
        self.assertIn("wget", [e["name"] for e in plan["excluded"]])

    def test_plan_does_not_warn_about_ordinary_packages(self):
        with dt.Server(self.local.root) as server:
            result = self.distill("plan", "--json", self.manifest(server.url), check=0)
        self.assertEqual(json.loads(result.stdout)["warnings"], [])
        self.assertNotIn("warning", result.stderr)

    def test_build_warns_from_the_package_itself(self):
        with dt.Server(self.local.root) as server:
            manifest = self.manifest(server.url, packages=["hello", "corefonts-installer"])
            result = self.distill("build", "--json", "-o", self.scratch / "out", manifest,
                                  check=0)
            # From the lock too: no index is read, the package still tells.
            again = self.distill("build", "-o", self.scratch / "out", manifest, check=0)
        warning = ("corefonts-installer: its postinst runs wget: what it would download or make "
                   "at install time will not be in the image")
        self.assertIn(f"distill: warning: amd64: {warning}", result.stderr)
        self.assertIn("using the lock", again.stderr)
        self.assertIn(warning, again.stderr)
        # Once per build: the index's guess is not repeated next to the package's answer.
        self.assertNotIn("looks like an installer", result.stderr)
        built = json.loads(result.stdout)
        self.assertEqual([w for w in built["archs"][0]["warnings"] if warning in w],
                         built["archs"][0]["warnings"])
        self.assertEqual(len(built["archs"][0]["warnings"]), 1)


if __name__ == "__main__":
    dt.main()
