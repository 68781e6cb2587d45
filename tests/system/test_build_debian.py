"""System: the stock manifests built from the real Debian mirror (the host's apt sources or
DISTILL_DEBIAN_MIRROR), run in podman with runc, and read by independent tools: skopeo, umoci
with runc, dpkg-query and the OCI JSON schemas."""

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
import distill_test as dt  # noqa: E402

MANIFESTS = dt.source_dir() / "manifests"
PROGRAMS = dt.source_dir() / "tests" / "data" / "programs"
# The java17 test image has both variants; the reproducibility test builds it without them.
JAVA17_VARIANTS = "variants: [debug, root]\n"
# Nothing an attacker could use: no shell, no busybox, no perl, no package manager.
SCHEMAS = None  # the SBOM schemas, loaded once (dt.SbomSchemas)
FORBIDDEN = re.compile(r"^usr/(s?bin)/(sh|bash|dash|busybox|perl[0-9.]*|apt|apt-get|dpkg)$")



class BuildDebian(dt.TestCase):
    shared = None  # class-wide scratch: the cache and the images, built once

    @classmethod
    def setUpClass(cls):
        dt.require_programs("podman", "runc", "skopeo", "umoci", "javac", "gcc", "g++",
                            "dpkg-query")
        global SCHEMAS
        SCHEMAS = dt.SbomSchemas()
        cls.shared = dt.scratch_dir("distill-system-")
        cls.conf = cls.shared / "containers.conf"
        cls.conf.write_text(dt.CONTAINERS_CONF)
        cls.images = {}
        cls.results = {}
        cls.timings = {}
        cls.compile_programs()

    @classmethod
    def tearDownClass(cls):
        # The figures of every image built above: a report, not a test, so it runs after all
        # of them whatever their order.
        for stock, result in sorted(cls.results.items()):
            print(dt.build_figures(stock, result, cls.timings[stock]))
        shutil.rmtree(cls.shared, ignore_errors=True)

    @classmethod
    def compile_programs(cls):
        programs = cls.shared / "programs"
        programs.mkdir()
        subprocess.run(["javac", "--release", "17", "-d", programs, PROGRAMS / "Check.java"],
                       check=True)
        subprocess.run(["gcc", "-O2", "-o", programs / "hello", PROGRAMS / "hello.c"], check=True)
        subprocess.run(["gcc", "-O2", "-static", "-o", programs / "hello-static",
                        PROGRAMS / "hello.c"], check=True, capture_output=True)
        subprocess.run(["gcc", "-O2", "-static", "-o", programs / "probe", PROGRAMS / "probe.c"],
                       check=True, capture_output=True)
        subprocess.run(["g++", "-O2", "-pthread", "-o", programs / "hello-cc",
                        PROGRAMS / "hello.cpp"], check=True)

    @classmethod
    def image(cls, stock, files=(), extra=""):
        """Builds (once) an image that includes the stock manifest and adds `files`."""
        if stock in cls.images:
            return cls.images[stock]
        manifest = cls.shared / f"test-{stock}"
        text = f"include: {MANIFESTS / stock}\nname: test-{Path(stock).stem}\n"
        if files:
            text += "files:\n" + "".join(
                f"  - src: {cls.shared / 'programs' / src}\n    dst: {dst}\n    mode: \"{mode}\"\n"
                for src, dst, mode in files)
        manifest.write_text(text + extra)
        out = cls.shared / "out" / Path(stock).stem
        cls.results[stock], cls.timings[stock] = dt.timed_build(cls.shared / "cache", manifest,
                                                                out)
        cls.images[stock] = out
        return out

    def podman(self, layout, *args, entrypoint=None, check=True, tag="latest", options=None):
        """Runs the image under its runtime profile (dt.hardened) unless `options` says how."""
        return dt.podman_run(self.conf, f"oci:{layout}:{tag}", *args, entrypoint=entrypoint,
                             check=check,
                             options=dt.hardened(layout) if options is None else options)

    def check_distroless(self, layout):
        members, _ = dt.layer_members(dt.image_files(layout)[2])
        names = set()
        for member, _ in members:
            name = member.name.rstrip("/")
            names.add(name)
            self.assertIsNone(FORBIDDEN.match(name), f"{layout.name} holds {name}")
            # (A setgid directory, like base-files' /var/local, only passes its group on.)
            if member.isreg():
                self.assertFalse(member.mode & (stat.S_ISUID | stat.S_ISGID),
                                 f"{layout.name}: {name} is setuid/setgid")
        for path in ("bin/sh", "usr/bin/sh", "usr/bin/bash", "usr/bin/perl", "usr/bin/apt",
                     "usr/bin/dpkg", "usr/bin/busybox"):
            self.assertNotIn(path, names)
        # And the runtime agrees: there is no shell to start.
        result = self.podman(layout, "-c", "id", entrypoint="/bin/sh", check=False)
        self.assertNotEqual(result.returncode, 0)
        return names

    def check_readers(self, layout):
        dt.OciSchemas().check_layout(layout)
        inspected = json.loads(subprocess.run(["skopeo", "inspect", f"oci:{layout}:latest"],
                                              capture_output=True, text=True,
                                              check=True).stdout)
        self.assertEqual(inspected["Architecture"], "amd64")
        self.assertEqual(inspected["Os"], "linux")
        return inspected

    def check_explained(self, layout, stock):
        """The SBOMs against their schemas, the plan, the package database and the layer
        (dt.check_sboms), and what scanners read: Trivy knows Debian by /etc/debian_version,
        Syft and Grype by os-release's ID and VERSION_ID; all three read dpkg's status
        (`install ok installed`, Source: where the source is another package) and the file
        lists, which must hold only what is in the image."""
        _, _, layer = dt.image_files(layout)
        paths = dt.layer_paths(layer)
        status = paths["/var/lib/dpkg/status"][1].decode()
        manifest = self.shared / f"test-{stock}"
        plan = json.loads(dt.run(["--cache-dir", self.shared / "cache", "plan", "--json",
                                  manifest], check=0).stdout)
        spdx, _ = dt.check_sboms(self, layout, SCHEMAS, dt.dpkg_status_packages(status),
                                 [p["name"] for p in plan["packages"]])

        os_release = paths["/etc/os-release"]
        if os_release[0].issym():
            os_release = paths["/usr/lib/os-release"]
        fields = dict(line.split("=", 1) for line in os_release[1].decode().splitlines()
                      if "=" in line)
        self.assertEqual(fields["ID"], "debian")
        self.assertEqual(fields["VERSION_ID"].strip('"'), "12")
        self.assertRegex(paths["/etc/debian_version"][1].decode(), r"^12\.")
        sources = {p["name"]: p["sourceInfo"].split()[5] for p in spdx["packages"]
                   if "sourceInfo" in p}
        for stanza in status.strip().split("\n\n"):
            fields = dict(line.split(": ", 1) for line in stanza.splitlines()
                          if ": " in line and not line.startswith(" "))
            self.assertEqual(fields["Status"], "install ok installed")
            if sources[fields["Package"]] != fields["Package"]:
                self.assertEqual(fields["Source"].split()[0], sources[fields["Package"]])
        import hashlib

        def in_image(listed):
            """The layer's path for a path as the package names it: /lib/x is /usr/lib/x in a
            merged-/usr image, where /lib links to usr/lib (as dpkg sees it there too)."""
            if listed in paths:
                return listed
            top, _, rest = listed[1:].partition("/")
            link = paths.get("/" + top)
            if link and link[0].issym() and rest:
                return "/" + link[0].linkname.lstrip("/") + "/" + rest
            return listed

        for path, (member, content) in paths.items():
            if path.startswith("/var/lib/dpkg/info/") and path.endswith(".list"):
                for listed in content.decode().splitlines():
                    self.assertTrue(listed == "/." or in_image(listed) in paths,
                                    f"{path}: {listed}")
            if path.startswith("/var/lib/dpkg/info/") and path.endswith(".md5sums"):
                for line in content.decode().splitlines():
                    digest, name = line.split(None, 1)
                    self.assertEqual(hashlib.md5(paths[in_image("/" + name)][1]).hexdigest(),
                                     digest, f"{path}: {name}")
        return spdx

    def runc_run(self, layout, args):
        """Unpacks with umoci and runs with plain runc: a second runtime path that reads the
        image config (user, env, entrypoint) on its own."""
        bundle = self.scratch / "bundle"
        subprocess.run(["umoci", "unpack", "--image", f"{layout}:latest", bundle], check=True,
                       capture_output=True)
        config = json.loads((bundle / "config.json").read_text())
        self.assertEqual(config["process"]["user"]["uid"], 65532)
        config["process"]["terminal"] = False
        config["process"]["args"] = config["process"]["args"] + args
        (bundle / "config.json").write_text(json.dumps(config))
        result = subprocess.run(["runc", "run", "-b", bundle, f"distill-{os.getpid()}"],
                                capture_output=True, text=True, timeout=300)
        return bundle, result

    # --- the images -----------------------------------------------------------------------

    def test_java17(self):
        layout = self.image("java17.yaml", [("Check.class", "/app/Check.class", "0644")],
                            JAVA17_VARIANTS)
        _, config, _ = dt.image_files(layout)
        self.assertEqual(config["config"]["Entrypoint"], ["/usr/bin/java"])
        self.assertEqual(config["config"]["User"], "65532:65532")
        version = self.podman(layout, "-version")
        self.assertIn('openjdk version "17.', version.stderr)
        check = self.podman(layout, "-cp", "/app", "Check").stdout
        self.assertIn("uid=65532\n", check)
        self.assertIn("user.name=nonroot\n", check)
        self.assertIn("java.home=/usr/lib/jvm/java-17-openjdk-amd64\n", check)
        trusted = int(re.search(r"trusted=(\d+)", check).group(1))
        self.assertGreater(trusted, 100)
        names = self.check_distroless(layout)
        self.assertIn("etc/ssl/certs/java/cacerts", names)
        self.assertIn("etc/ssl/certs/ca-certificates.crt", names)
        self.check_readers(layout)
        self.check_explained(layout, "java17.yaml")
        # Why the JVM and the truststore are there.
        why = dt.run(["inspect", layout, "--why",
                      "/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so"], check=0).stdout
        self.assertIn("shipped by openjdk-17-jre-headless 17.", why)
        self.assertIn("openjdk-17-jre-headless is in the image because the manifest asks for it",
                      why)
        why = dt.run(["inspect", layout, "--why", "/etc/ssl/certs/java/cacerts"], check=0).stdout
        self.assertIn("generated by distill: the Java truststore, from the CA certificates of "
                      "ca-certificates", why)
        print(why.strip())
        bundle, result = self.runc_run(layout, ["-version"])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('openjdk version "17.', result.stderr)
        # The package database is dpkg's: dpkg-query reads it and finds the JVM's files.
        admin = bundle / "rootfs" / "var" / "lib" / "dpkg"
        listed = subprocess.run(["dpkg-query", f"--admindir={admin}", "-W",
                                 "-f=${Package}\\n"], capture_output=True, text=True, check=True)
        packages = sorted(listed.stdout.split())
        self.assertEqual(len(packages), self.results["java17.yaml"]["archs"][0]["packages"])
        self.assertIn("openjdk-17-jre-headless", packages)
        owner = subprocess.run(["dpkg-query", f"--admindir={admin}", "-S",
                                "/usr/lib/jvm/java-17-openjdk-amd64/bin/java"],
                               capture_output=True, text=True, check=True)
        self.assertTrue(owner.stdout.startswith("openjdk-17-jre-headless:amd64: "), owner.stdout)
        verify = subprocess.run(["dpkg", f"--root={bundle / 'rootfs'}", "--verify",
                                 "openjdk-17-jre-headless", "libc6"],
                                capture_output=True, text=True)
        self.assertEqual((verify.returncode, verify.stdout), (0, ""), verify.stderr)
        print(f"java17: trusted={trusted}, {len(packages)} packages in dpkg's database")

    def test_java17_variants_and_profile(self):
        layout = self.image("java17.yaml", [("Check.class", "/app/Check.class", "0644")],
                            JAVA17_VARIANTS)
        index = json.loads((layout / "index.json").read_text())
        tags = [m.get("annotations", {}).get("org.opencontainers.image.ref.name")
                for m in index["manifests"]]
        self.assertEqual(tags[:3], ["latest", "latest-debug", "latest-root"])
        # podman takes the seccomp profile from the image's label too.
        labelled = self.podman(layout, "-version",
                               options=dt.HARDENED + ["--seccomp-policy=image"])
        self.assertIn('openjdk version "17.', labelled.stderr)
        # debug: busybox's shell, under /busybox, in the variant only.
        listed = self.podman(layout, "-c", "ls /usr/lib/jvm; echo $PATH", tag="latest-debug",
                             entrypoint="/busybox/sh").stdout
        self.assertIn("java-17-openjdk-amd64\n", listed)
        self.assertTrue(listed.rstrip().endswith(":/busybox"), listed)
        debug = json.loads(dt.run(["inspect", layout, "--json"], check=0).stdout)
        self.assertFalse(any(e["path"].startswith("/busybox") for e in debug["entries"]))
        # root: the same layer, run as uid 0. The image has no `id`: the debug variant's
        # busybox, mounted in, asks for it, and gives the image's own user in the image.
        self.assertIn("uid=0\n", self.podman(layout, "-cp", "/app", "Check", tag="latest-root",
                                             options=[]).stdout)
        index_now = json.loads((layout / "index.json").read_text())
        debug_manifest = json.loads(dt.blob(layout, index_now["manifests"][1]["digest"]))
        busybox = self.scratch / "busybox"
        busybox.write_bytes(dt.layer_paths(dt.blob(
            layout, debug_manifest["layers"][1]["digest"]))["/busybox/busybox"][1])
        busybox.chmod(0o755)
        mounted = ["-v", f"{busybox}:/probe/busybox:ro"]
        ids = [self.podman(layout, "id", "-u", tag=tag, entrypoint="/probe/busybox",
                           options=mounted).stdout.strip() for tag in ("latest-root", "latest")]
        self.assertEqual(ids, ["0", "65532"])
        sizes = {}
        for entry in index["manifests"][:3]:
            manifest = json.loads(dt.blob(layout, entry["digest"]))
            sizes[entry["annotations"]["org.opencontainers.image.ref.name"]] = [
                layer["size"] for layer in manifest["layers"]]
        self.assertEqual(sizes["latest-root"], sizes["latest"])
        self.assertEqual(sizes["latest-debug"][:1], sizes["latest"])
        self.assertEqual(len(sizes["latest-debug"]), 2)
        inspected = dt.run(["inspect", layout], check=0).stdout
        self.assertIn("latest-debug (sha256:", inspected)
        self.assertIn('latest-root (sha256:', inspected)
        run = dt.run(["inspect", layout, "--run"], check=0).stdout
        self.assertIn(f"podman run --read-only --read-only-tmpfs=false "
                      f"--tmpfs /tmp:rw,noexec,nosuid,nodev --cap-drop=ALL "
                      f"--security-opt=no-new-privileges "
                      f"--security-opt=seccomp={dt.seccomp_file(layout)} --user=65532:65532 "
                      f"oci:{layout}:latest", run)
        self.assertIn("  seccompProfile:\n    type: Localhost\n", run)
        root = json.loads(dt.run(["inspect", layout, "--run", "--variant", "root", "--json"],
                                 check=0).stdout)
        self.assertIn("runAsNonRoot: false", root["kubernetes"])
        plan = dt.run(["--cache-dir", self.shared / "cache", "plan",
                       self.shared / "test-java17.yaml"], check=0).stdout
        self.assertRegex(plan, r"variant debug: adds busybox-static \S+ \(")
        self.assertIn("variant root: the image running as root (uid 0)", plan)
        print(f"java17 variants: debug adds a layer of {sizes['latest-debug'][1]:,} bytes "
              f"(compressed), root adds no layer (a config of its own)")

    def test_python3(self):
        layout = self.image("python3.yaml")
        result = self.podman(layout, "-c", "import ssl, json, sqlite3, os; "
                                           "print('python', os.getuid(), ssl.OPENSSL_VERSION)")
        self.assertRegex(result.stdout, r"^python 65532 OpenSSL 3\.")
        self.check_distroless(layout)
        self.check_readers(layout)
        self.check_explained(layout, "python3.yaml")
        _, result = self.runc_run(layout, ["-c", "print('runc', 6 * 7)"])
        self.assertEqual((result.returncode, result.stdout), (0, "runc 42\n"), result.stderr)

    def test_base(self):
        layout = self.image("base.yaml", [("hello", "/usr/local/bin/hello", "0755")],
                            "config:\n  entrypoint: [/usr/local/bin/hello]\n")
        self.assertEqual(self.podman(layout).stdout, "hello from uid 65532 (nonroot)\n")
        self.check_distroless(layout)
        self.check_readers(layout)
        self.check_explained(layout, "base.yaml")
        _, result = self.runc_run(layout, [])
        self.assertEqual(result.stdout, "hello from uid 65532 (nonroot)\n", result.stderr)

    def test_cc(self):
        layout = self.image("cc.yaml", [("hello-cc", "/usr/local/bin/hello-cc", "0755")],
                            "config:\n  entrypoint: [/usr/local/bin/hello-cc]\n")
        self.assertEqual(self.podman(layout).stdout, "hello from C++: thread and exception\n")
        self.check_distroless(layout)
        self.check_readers(layout)
        self.check_explained(layout, "cc.yaml")
        _, result = self.runc_run(layout, [])
        self.assertEqual(result.stdout, "hello from C++: thread and exception\n", result.stderr)

    def test_static(self):
        layout = self.image("static.yaml", [("hello-static", "/usr/local/bin/hello", "0755"),
                                            ("probe", "/usr/local/bin/probe", "0755")],
                            "config:\n  entrypoint: [/usr/local/bin/hello]\n")
        self.assertTrue(self.podman(layout).stdout.startswith("hello from uid 65532"))
        names = self.check_distroless(layout)
        self.assertNotIn("usr/lib/x86_64-linux-gnu/libc.so.6", names)
        self.assertIn("etc/ssl/certs/ca-certificates.crt", names)
        self.assertIn("usr/share/zoneinfo/Etc/UTC", names)
        self.check_readers(layout)
        self.check_explained(layout, "static.yaml")
        _, result = self.runc_run(layout, [])
        self.assertTrue(result.stdout.startswith("hello from uid 65532"), result.stderr)

    def probe(self, layout, options):
        result = self.podman(layout, entrypoint="/usr/local/bin/probe", options=options)
        return dt.probe_results(result.stdout)

    def test_profile_refuses_what_an_attacker_tries(self):
        """The probe tries mount, unshare, setns, ptrace, bpf, keyctl and a write to /: under
        the runtime profile (from the file, and from the image's label) each is refused; without
        it, unshare and ptrace go through, so the profile is what stops them."""
        layout = self.image("static.yaml", [("hello-static", "/usr/local/bin/hello", "0755"),
                                            ("probe", "/usr/local/bin/probe", "0755")],
                            "config:\n  entrypoint: [/usr/local/bin/hello]\n")
        self.assertEqual(self.probe(layout, dt.hardened(layout)), dt.PROBE_REFUSED)
        self.assertEqual(self.probe(layout, dt.HARDENED + ["--seccomp-policy=image"]),
                         dt.PROBE_REFUSED)
        plain = self.probe(layout, [])
        print(f"probe without the profile: {plain}")
        self.assertEqual(plain["unshare"], "allowed")
        self.assertEqual(plain["ptrace"], "allowed")

    def test_profile_starts_from_the_runtime_default(self):
        """What the profile allows, the runtime's default profile (containers-common's, which
        podman uses) allows a process without capabilities; what the default allows and the
        profile does not, the profile denies by name, with a reason."""
        default = json.loads(Path("/usr/share/containers/seccomp.json").read_text())
        layout = self.image("static.yaml", [("hello-static", "/usr/local/bin/hello", "0755"),
                                            ("probe", "/usr/local/bin/probe", "0755")],
                            "config:\n  entrypoint: [/usr/local/bin/hello]\n")
        ours = json.loads(dt.seccomp_file(layout).read_text())
        _, config, _ = dt.image_files(layout)
        self.assertEqual(json.loads(config["config"]["Labels"]["io.containers.seccomp.profile"]),
                         ours)

        def unconditional(profile, action):
            return {name for rule in profile["syscalls"] if rule["action"] == action
                    and not rule.get("args") and not rule.get("includes")
                    for name in rule["names"]}

        default_allowed = unconditional(default, "SCMP_ACT_ALLOW")
        allowed = unconditional(ours, "SCMP_ACT_ALLOW")
        denied = {}
        for rule in ours["syscalls"]:
            if rule["action"] == "SCMP_ACT_ERRNO" and rule.get("errnoRet") == 1:
                for name in rule["names"]:
                    denied[name] = rule["comment"]
        self.assertEqual(allowed - default_allowed, set())
        # clone (without namespace flags) and clone3 (ENOSYS) are conditional here.
        self.assertEqual(default_allowed - allowed - set(denied), {"clone", "clone3"})
        for name in ("mount", "unshare", "setns", "ptrace", "keyctl", "reboot"):
            self.assertIn(name, default_allowed)
            self.assertGreater(len(denied[name]), 20)
        print(f"runtime profile: allows {len(allowed)} system calls, denies {len(denied)} by "
              f"name; the runtime's default allows {len(default_allowed)} unconditionally")

    def test_java17_is_reproducible(self):
        """A second build from a cold cache, in another time zone, with another umask and one
        thread gives the same digest."""
        first = self.image("java17.yaml", [("Check.class", "/app/Check.class", "0644")],
                           JAVA17_VARIANTS)
        # The same manifest without its variants: the image must not change by a byte.
        manifest = self.shared / "plain" / "test-java17.yaml"
        manifest.parent.mkdir()
        manifest.write_text((self.shared / "test-java17.yaml").read_text().replace(
            JAVA17_VARIANTS, ""))
        out = self.scratch / "again"
        result = subprocess.run(
            [dt.binary(), "--cache-dir", self.scratch / "cold-cache", "-q", "build", "--json",
             "-j1", "-o", out, manifest], capture_output=True, text=True, umask=0o077,
            env={**os.environ, "TZ": "Pacific/Auckland", "LANG": "C"}, check=True)
        again = json.loads(result.stdout)
        self.assertEqual(again["digest"], self.results["java17.yaml"]["digest"])
        # The same index.json, the variants aside: the image and its SBOM artifacts, byte for
        # byte.
        with_variants = json.loads((first / "index.json").read_text())
        with_variants["manifests"] = [m for m in with_variants["manifests"]
                                      if m.get("annotations", {}).get(
                                          "org.opencontainers.image.ref.name", "latest")
                                      == "latest"]
        self.assertEqual(json.loads((out / "index.json").read_text()), with_variants)
        self.assertEqual(len(with_variants["manifests"]), 3)
        self.assertEqual(dt.layout_sboms(out), dt.layout_sboms(first))
        print(f"java17 twice (warm cache, all threads; cold cache, -j1, TZ, umask 077): "
              f"{again['digest']}")


if __name__ == "__main__":
    dt.main()
