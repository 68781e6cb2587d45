"""System: what a new user gets wrong, against the real Debian mirror (from the host's apt
sources or DISTILL_DEBIAN_MIRROR): a misspelt release, a package from contrib, and an installer
package whose content its postinst downloads."""

import json
import lzma
import os
import re
import sys
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
import distill_test as dt  # noqa: E402

FONTS = "ttf-mscorefonts-installer"


def archive_mirror():
    """The archive mirror, read independently of distill: the environment, else the host's apt
    sources (the entry for bookworm)."""
    if os.environ.get("DISTILL_DEBIAN_MIRROR"):
        return os.environ["DISTILL_DEBIAN_MIRROR"].rstrip("/")
    for path in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        for paragraph in path.read_text().split("\n\n"):
            fields = dict(re.findall(r"^(\S+):\s*(.*)$", paragraph, re.M))
            if "bookworm" in fields.get("Suites", "").split():
                return fields["URIs"].split()[0].rstrip("/")
    dt.skip_or_fail("no bookworm entry in the host's apt sources")


def index_names(url):
    with urllib.request.urlopen(url, timeout=120) as response:
        text = lzma.decompress(response.read()).decode()
    return set(re.findall(r"^Package: (\S+)$", text, re.M))


class UserErrorsDebian(dt.TestCase):
    def test_a_misspelt_release_names_the_release_the_mirror_has(self):
        manifest = self.write("app.yaml", "name: app\ndistro: debian\nrelease: bookwrom\n"
                                          "archs: [amd64]\npackages: [libc6]\n")
        result = self.distill("plan", manifest, check=3)
        self.assertIn(f"{manifest}:3:10: release `bookwrom`: {archive_mirror()} has no such "
                      f"release", result.stderr)
        self.assertIn("hint: did you mean bookworm?", result.stderr)
        self.assertNotRegex(result.stderr, r"error: fetching|download failed")
        print(result.stderr.strip().splitlines()[-2:])

    def test_a_package_in_contrib_says_how_to_add_contrib(self):
        mirror = archive_mirror()
        # The facts, from the mirror itself: contrib has the package, main does not.
        contrib = index_names(f"{mirror}/dists/bookworm/contrib/binary-amd64/Packages.xz")
        main = index_names(f"{mirror}/dists/bookworm/main/binary-amd64/Packages.xz")
        self.assertIn(FONTS, contrib)
        self.assertNotIn(FONTS, main)

        manifest = self.write("fonts.yaml", "name: fonts\ndistro: debian\nrelease: bookworm\n"
                                            f"archs: [amd64]\npackages: [{FONTS}]\n")
        result = self.distill("plan", manifest, check=6)
        hint = (f"hint: {FONTS} is in contrib of bookworm, which this manifest does not use; "
                "add it with `sources: [{components: [main, contrib]}]`")
        self.assertIn(f"{manifest}:5:", result.stderr)
        self.assertIn(f"no package named {FONTS} in bookworm/main", result.stderr)
        self.assertIn(hint, result.stderr)
        print(hint)

        # Following the hint works, and the plan warns that the fonts will not be there.
        fixed = self.write("fonts-contrib.yaml", manifest.read_text() +
                           "sources: [{components: [main, contrib]}]\n")
        plan = self.distill("plan", "--json", fixed, check=0)
        names = [p["name"] for p in json.loads(plan.stdout)["packages"]]
        self.assertIn(FONTS, names)
        warnings = json.loads(plan.stdout)["warnings"]
        self.assertEqual(len(warnings), 1, warnings)
        self.assertIn(f"{FONTS} looks like an installer package (it depends on wget and calls "
                      "itself an installer)", warnings[0])
        self.assertIn(f"distill: warning: amd64: {FONTS} looks like an installer", plan.stderr)
        print(f"plan: {len(names)} packages; {warnings[0]}")

        # The build reads the package itself: its postinst runs wget.
        build = self.distill("build", "--json", "-o", self.scratch / "fonts-image", fixed,
                             check=0)
        built = json.loads(build.stdout)["archs"][0]
        self.assertEqual(len(built["warnings"]), 1, built["warnings"])
        self.assertIn(f"{FONTS}: its postinst runs wget: what it would download or make at "
                      "install time will not be in the image", built["warnings"][0])
        self.assertIn(f"distill: warning: amd64: {FONTS}: its postinst runs wget", build.stderr)
        print(f"build: {built['packages']} packages; {built['warnings'][0]}")


if __name__ == "__main__":
    dt.main()
