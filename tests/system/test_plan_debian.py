"""System: `distill plan` against the real Debian mirror (from the host's apt sources or
DISTILL_DEBIAN_MIRROR), for the stock manifests."""

import functools
import json
import lzma
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
import distill_test as dt  # noqa: E402

MANIFESTS = dt.source_dir() / "manifests"
NEVER = ["dash", "bash", "coreutils", "perl-base", "dpkg", "apt", "debconf", "util-linux",
         "busybox"]


def mirror_for(suite, variable):
    """The mirror serving `suite`, read independently of distill: the environment variable,
    else the host's apt sources."""
    if os.environ.get(variable):
        return os.environ[variable].rstrip("/")
    for path in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        for paragraph in path.read_text().split("\n\n"):
            fields = dict(re.findall(r"^(\S+):\s*(.*)$", paragraph, re.M))
            if suite in fields.get("Suites", "").split():
                return fields["URIs"].split()[0].rstrip("/")
    dt.skip_or_fail(f"no {suite} entry in the host's apt sources")


def index_versions(url):
    with urllib.request.urlopen(url, timeout=120) as response:
        text = lzma.decompress(response.read()).decode()
    versions = {}
    for stanza in text.split("\n\n"):
        fields = dict(re.findall(r"^(Package|Version): (.*)$", stanza, re.M))
        if "Package" in fields:
            versions[fields["Package"]] = fields["Version"]
    return versions


def compare_versions(a, b):
    """dpkg's ordering, from dpkg itself."""
    if a == b:
        return 0
    return -1 if subprocess.run(["dpkg", "--compare-versions", a, "lt", b]).returncode == 0 else 1


class PlanDebian(dt.TestCase):
    def plan(self, manifest, cache=None):
        args = ["--cache-dir", cache or self.cache, "plan", "--json", "--arch", "amd64",
                MANIFESTS / manifest]
        started = time.monotonic()
        result = dt.run(args, check=0)
        return json.loads(result.stdout), result.stderr, time.monotonic() - started

    def test_java17_is_distroless(self):
        plan, _, _ = self.plan("java17.yaml")
        names = [p["name"] for p in plan["packages"]]
        self.assertIn("openjdk-17-jre-headless", names)
        self.assertIn("libc6", names)
        self.assertIn("ca-certificates", names)
        for name in NEVER:
            self.assertNotIn(name, names)
        excluded = {e["name"]: e for e in plan["excluded"]}
        for name in ("util-linux", "java-common", "ca-certificates-java", "debconf", "openssl"):
            self.assertIn(name, excluded)
        self.assertIn("openjdk-17-jre-headless", excluded["ca-certificates-java"]["wanted_by"])
        for package in plan["packages"]:
            self.assertRegex(package["sha256"], "^[0-9a-f]{64}$")
            self.assertTrue(package["url"].endswith(".deb"), package["url"])
            self.assertGreater(package["download_size"], 0)
            self.assertEqual(package["why"][-1], package["name"])
        size = sum(p["size"] for p in plan["packages"])
        print(f"java17: {len(names)} packages, {size / 1e6:.1f} MB installed, "
              f"{sum(p['download_size'] for p in plan['packages']) / 1e6:.1f} MB of .debs, "
              f"{len(excluded)} excluded: {', '.join(sorted(excluded))}")

    def test_security_versions_win_when_newer(self):
        archive = mirror_for("bookworm", "DISTILL_DEBIAN_MIRROR")
        security = mirror_for("bookworm-security", "DISTILL_DEBIAN_SECURITY_MIRROR")
        suites = {
            "bookworm": index_versions(f"{archive}/dists/bookworm/main/binary-amd64/Packages.xz"),
            "bookworm-updates": index_versions(
                f"{archive}/dists/bookworm-updates/main/binary-amd64/Packages.xz"),
            "bookworm-security": index_versions(
                f"{security}/dists/bookworm-security/main/binary-amd64/Packages.xz"),
        }
        from_security = []
        for manifest in ("java17.yaml", "python3.yaml", "cc.yaml"):
            plan, _, _ = self.plan(manifest)
            for package in plan["packages"]:
                name = package["name"]
                offered = {suite: v[name] for suite, v in suites.items() if name in v}
                best = max(offered.values(), key=functools.cmp_to_key(compare_versions))
                self.assertEqual(package["version"], best, f"{name}: offered {offered}")
                others = [v for suite, v in offered.items() if suite != "bookworm-security"]
                if "bookworm-security" in offered and all(
                        compare_versions(offered["bookworm-security"], v) > 0 for v in others):
                    # Only the security suite has this version: it must come from there.
                    self.assertEqual(package["suite"], "bookworm-security", name)
                    self.assertTrue(package["url"].startswith(security), package["url"])
                    from_security.append(f"{name} {package['version']}")
        print("newer in bookworm-security, and taken from there:",
              ", ".join(sorted(set(from_security))))
        self.assertTrue(from_security, "no package of these closures is newer in bookworm-security")

    def test_warm_plan_downloads_no_unchanged_index(self):
        cold_plan, cold_log, cold_time = self.plan("java17.yaml")
        self.assertRegex(cold_log, r"3 release files checked \(0 not modified\), 3 indexes "
                                   r"downloaded, 0 from cache")
        warm_plan, warm_log, warm_time = self.plan("java17.yaml")
        # The three InRelease files are always asked for (conditionally where the mirror gives
        # validators; the integration tests show the 304 path); no Packages index is fetched
        # again, and what is downloaded is no more than the release files.
        match = re.search(r"3 release files checked \((\d) not modified\), 0 indexes downloaded, "
                          r"3 from cache, (.*) downloaded", warm_log)
        self.assertIsNotNone(match, warm_log)
        self.assertRegex(match.group(2), r"^\d+(\.\d)? (B|kB)$", "more than release files")
        self.assertEqual(cold_plan, warm_plan)
        print(f"java17 plan: cold {cold_time:.2f} s, warm {warm_time:.2f} s; warm run: "
              f"{match.group(1)} of 3 release files not modified, {match.group(2)} downloaded")

    def test_closure_without_policy_is_apts(self):
        """With the exclusion policy off, the closure is exactly what apt installs."""
        dt.require_programs("apt-get")
        apt_dir = self.scratch / "apt"
        for sub in ("state/lists/partial", "cache/archives/partial"):
            (apt_dir / sub).mkdir(parents=True)
        (apt_dir / "status").write_text("")  # nothing installed
        options = ["-o", f"Dir::State={apt_dir}/state", "-o", f"Dir::State::status={apt_dir}/status",
                   "-o", f"Dir::Cache={apt_dir}/cache", "-o", "Debug::NoLocking=1",
                   "-o", "APT::Architecture=amd64"]
        subprocess.run(["apt-get", *options, "update"], check=True, capture_output=True)
        simulated = subprocess.run(
            ["apt-get", *options, "-s", "install", "--no-install-recommends",
             "openjdk-17-jre-headless"], check=True, capture_output=True, text=True).stdout
        apt = sorted(re.findall(r"^Inst (\S+) \((\S+) ", simulated, re.M))

        manifest = self.scratch / "jre.yaml"
        manifest.write_text("name: jre\ndistro: debian\nrelease: bookworm\n"
                            "packages: [openjdk-17-jre-headless]\n")
        everything = self.scratch / "jre-apt.yaml"
        everything.write_text(manifest.read_text() + "allow: ['*']\n")
        open_plan = json.loads(dt.run(["--cache-dir", self.cache, "plan", "--json", "--arch",
                                       "amd64", everything], check=0).stdout)
        distilled = json.loads(dt.run(["--cache-dir", self.cache, "plan", "--json", "--arch",
                                       "amd64", manifest], check=0).stdout)
        mine = sorted((p["name"], p["version"]) for p in open_plan["packages"])
        self.assertEqual(mine, apt)
        print(f"openjdk-17-jre-headless: apt installs {len(apt)} packages, "
              f"{open_plan['installed_size'] / 1e6:.1f} MB; distill {len(distilled['packages'])} "
              f"packages, {distilled['installed_size'] / 1e6:.1f} MB "
              f"({len(distilled['excluded'])} kept out: "
              f"{', '.join(e['name'] for e in distilled['excluded'])})")
        self.assertLess(len(distilled["packages"]), len(apt))

    def test_stock_manifests_resolve(self):
        expectations = {
            "static.yaml": ["base-files", "netbase", "tzdata", "ca-certificates"],
            "base.yaml": ["libc6", "libssl3", "base-files"],
            "cc.yaml": ["libstdc++6", "libgcc-s1", "libgomp1", "libc6"],
            "python3.yaml": ["python3", "python3.11", "libpython3.11-stdlib", "libc6"],
        }
        for manifest, wanted in expectations.items():
            with self.subTest(manifest=manifest):
                plan, _, _ = self.plan(manifest)
                names = [p["name"] for p in plan["packages"]]
                for name in wanted:
                    self.assertIn(name, names)
                for name in NEVER:
                    self.assertNotIn(name, names)
                print(f"{manifest}: {len(names)} packages, "
                      f"{sum(p['size'] for p in plan['packages']) / 1e6:.1f} MB installed")
        static, _, _ = self.plan("static.yaml")
        self.assertNotIn("libc6", [p["name"] for p in static["packages"]])


if __name__ == "__main__":
    dt.main()
