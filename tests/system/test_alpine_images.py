"""System: the stock Alpine manifests (alpine-static.yaml, alpine-base.yaml) built from the real
Alpine 3.19 ISO packages of ../shared/testdata/alpine served on 127.0.0.1, with a program
built by musl-gcc added, run in podman with runc, and read by independent tools: skopeo,
umoci with runc, and the checks an image scanner makes (the OS from /etc/os-release and
/etc/alpine-release, the packages from apk's installed database)."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
import distill_test as dt  # noqa: E402

MANIFESTS = dt.source_dir() / "manifests"
PROGRAMS = dt.source_dir() / "tests" / "data" / "programs"
LOADER = "/lib/ld-musl-x86_64.so.1"
# What the dynamically linked program loads from alpine-base at run time.
LIBRARIES = ("libcrypto.so.3", "libssl.so.3", "libz.so.1")


def installed_records(text):
    """apk's installed database: package name -> {key: [values]}."""
    records = {}
    for name, lines in dt.apk_installed(text).items():
        fields = records[name] = {}
        for key, value in lines:
            fields.setdefault(key, []).append(value)
    return records

class AlpineImages(dt.TestCase):
    shared = None  # class-wide scratch: the server, the cache and the images, built once

    @classmethod
    def setUpClass(cls):
        dt.require_programs("podman", "runc", "skopeo", "umoci", "musl-gcc")
        data = dt.testdata("alpine")
        if not (data / "v3.19" / "iso-repo" / "x86_64" / "APKINDEX.tar.gz").is_file():
            dt.skip_or_fail(f"no Alpine 3.19 ISO repository in {data}")
        cls.keys = data / "keys"
        cls.shared = dt.scratch_dir("distill-system-alpine-")
        cls.conf = cls.shared / "containers.conf"
        cls.conf.write_text(dt.CONTAINERS_CONF)
        cls.server = dt.Server(data).__enter__()
        cls.results = {}
        cls.timings = {}
        cls.plans = {}
        try:
            cls.compile_programs()
            cls.images = {
                "alpine-static.yaml": cls.build("alpine-static.yaml", "check-static"),
                "alpine-base.yaml": cls.build("alpine-base.yaml", "check"),
            }
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for stock, result in sorted(cls.results.items()):
            print(dt.build_figures(stock, result, cls.timings[stock]))
        cls.server.__exit__(None, None, None)
        shutil.rmtree(cls.shared, ignore_errors=True)

    @classmethod
    def compile_programs(cls):
        programs = cls.shared / "programs"
        programs.mkdir()
        source = PROGRAMS / "alpine_check.c"
        subprocess.run(["musl-gcc", "-O2", "-o", programs / "check", source], check=True)
        subprocess.run(["musl-gcc", "-O2", "-static", "-o", programs / "check-static", source],
                       check=True)
        # The dynamic one needs musl's loader from the image; the static one needs nothing.
        interp = LOADER.encode() + b"\0"
        assert interp in (programs / "check").read_bytes(), "musl-gcc did not link dynamically"
        assert interp not in (programs / "check-static").read_bytes(), "not linked statically"

    @classmethod
    def build(cls, stock, program):
        """Builds an image that includes the stock manifest, takes its packages from the local
        ISO repository and runs `program` as its entrypoint."""
        manifest = cls.shared / f"test-{stock}"
        manifest.write_text("\n".join([
            f"include: {MANIFESTS / stock}",
            f"name: test-{Path(stock).stem}",
            "sources:",
            f"  - url: {cls.server.url}",
            "    components: [iso-repo]",
            f"    keyring: {cls.keys}",
            "files:",
            f"  - src: {cls.shared / 'programs' / program}",
            "    dst: /usr/local/bin/check",
            "    mode: \"0755\"",
            "config:",
            "  entrypoint: [/usr/local/bin/check]", ""]))
        plan = dt.run(["--cache-dir", cls.shared / "cache", "plan", "--json", manifest], check=0)
        cls.plans[stock] = json.loads(plan.stdout)
        out = cls.shared / "out" / Path(stock).stem
        cls.results[stock], cls.timings[stock] = dt.timed_build(cls.shared / "cache", manifest,
                                                                out)
        return out

    def podman(self, layout, *args, entrypoint=None, check=True):
        """Runs the image under its runtime profile (dt.hardened), as a user is told to."""
        return dt.podman_run(self.conf, f"oci:{layout}:{self.ref_name(layout)}", *args,
                             entrypoint=entrypoint, check=check, options=dt.hardened(layout))

    def unpack(self, layout):
        """The image unpacked by umoci (rootless when not root): the bundle directory."""
        bundle = self.scratch / "bundle"
        command = ["umoci", "unpack"]
        if os.geteuid() != 0:
            command.append("--rootless")
        command += ["--image", f"{layout}:{self.ref_name(layout)}", bundle]
        subprocess.run(command, check=True, capture_output=True, timeout=300)
        return bundle

    @staticmethod
    def ref_name(layout):
        index = json.loads((layout / "index.json").read_text())
        return index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"]

    def check_output(self, output, libraries=()):
        lines = output.splitlines()
        self.assertEqual(lines[0], "uid=65532 user=nonroot", output)
        self.assertEqual(lines[1], "ca=-----BEGIN CERTIFICATE-----", output)
        self.assertEqual(lines[2], "id=alpine", output)
        self.assertEqual(lines[3:], [f"dlopen {name} ok" for name in libraries], output)

    def check_no_shell(self, layout):
        _, config, layer = dt.image_files(layout)
        names = {m.name.lstrip("./").rstrip("/") for m, _ in dt.layer_members(layer)[0]}
        for path in ("bin/sh", "bin/ash", "bin/busybox", "sbin/apk", "usr/bin/env"):
            self.assertNotIn(path, names)
        self.assertEqual(config["config"]["User"], "65532:65532")
        self.assertEqual(config["config"]["Entrypoint"], ["/usr/local/bin/check"])
        # And the runtime agrees: there is no shell to start.
        # (127: podman's "command not found", runc's stat of /bin/sh failed.)
        result = self.podman(layout, "-c", "id", entrypoint="/bin/sh", check=False)
        self.assertEqual(result.returncode, 127, result.stdout + result.stderr)
        self.assertIn("/bin/sh: no such file or directory", result.stderr)
        return names

    # --- running the programs -----------------------------------------------------------

    def test_static_program_in_alpine_static(self):
        layout = self.images["alpine-static.yaml"]
        self.check_output(self.podman(layout).stdout)
        names = self.check_no_shell(layout)
        # musl is in the image all the same, for programs linked against it.
        self.assertIn(LOADER.lstrip("/"), names)
        for library in ("usr/lib/libcrypto.so.3", "lib/libcrypto.so.3", "lib/libz.so.1"):
            self.assertNotIn(library, names)

    def test_dynamic_program_in_alpine_base(self):
        layout = self.images["alpine-base.yaml"]
        self.check_output(self.podman(layout, *LIBRARIES).stdout, LIBRARIES)
        self.check_no_shell(layout)
        # A library the image lacks is reported by musl's loader, not silently found.
        output = self.podman(layout, "libstdc++.so.6").stdout
        self.assertNotIn("dlopen libstdc++.so.6 ok", output)

    def build_static_with(self, name, lines):
        """Builds alpine-static from the local ISO repository with these manifest `lines`
        added, as test-NAME into out/NAME."""
        manifest = self.shared / f"test-{name}.yaml"
        manifest.write_text("\n".join([
            f"include: {MANIFESTS / 'alpine-static.yaml'}",
            f"name: test-{name}",
            "sources:",
            f"  - url: {self.server.url}",
            "    components: [iso-repo]",
            f"    keyring: {self.keys}", *lines, ""]))
        layout = self.shared / "out" / name
        dt.run(["--cache-dir", self.shared / "cache", "build", "-o", layout, manifest], check=0)
        return layout

    def test_busybox_asked_for_runs_its_applets(self):
        """A debug image: busybox asked for by name, with the links its post-install script
        would make; the shell and the applets run, as the image's user."""
        layout = self.build_static_with("busybox", ["packages: [busybox]", "config:",
                                                    "  entrypoint: [/bin/sh]"])
        result = self.podman(layout, "-c", "id -u; ls /lib/ld-musl-x86_64.so.1; "
                             "readlink /bin/ls; echo hello | sed s/hello/applets/")
        self.assertEqual(result.stdout.splitlines(),
                         ["65532", "/lib/ld-musl-x86_64.so.1", "/bin/busybox", "applets"],
                         result.stdout + result.stderr)

    def test_the_debug_variant_has_busybox_under_its_own_directory(self):
        """`variants: [debug]`: Alpine's busybox under /busybox beside the image, whose own
        layer stays without a shell; both run under the runtime profile."""
        layout = self.build_static_with("variants", ["variants: [debug]"])
        result = dt.podman_run(self.conf, f"oci:{layout}:latest-debug", "-c",
                               "id -u; readlink /busybox/ls; echo $PATH; ls /bin/sh",
                               options=dt.hardened(layout), check=False)
        self.assertEqual(result.stdout.splitlines()[:3],
                         ["65532", "busybox",
                          "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/busybox"],
                         result.stdout + result.stderr)
        self.assertIn("/bin/sh: No such file or directory", result.stderr)
        _, _, layer = dt.image_files(layout)
        names = {m.name.lstrip("./").rstrip("/") for m, _ in dt.layer_members(layer)[0]}
        self.assertFalse({"bin/sh", "bin/busybox", "busybox"} & names)

    # --- independent readers ------------------------------------------------------------

    def test_skopeo_umoci_and_runc_read_the_layouts(self):
        for stock, layout in sorted(self.images.items()):
            with self.subTest(stock):
                dt.OciSchemas().check_layout(layout)
                inspected = json.loads(subprocess.run(
                    ["skopeo", "inspect", f"oci:{layout}:{self.ref_name(layout)}"],
                    capture_output=True, text=True, check=True, timeout=300).stdout)
                self.assertEqual((inspected["Architecture"], inspected["Os"]), ("amd64", "linux"))
                self.assertEqual(inspected["Digest"], self.results[stock]["digest"])
                bundle = self.unpack(layout)
                rootfs = bundle / "rootfs"
                installed = installed_records((rootfs / "lib/apk/db/installed").read_text())
                self.assertIn("musl", installed)
                self.assertIn("ld-musl-x86_64.so.1", installed["musl"]["R"])
                world = (rootfs / "etc/apk/world").read_text().split()
                self.assertEqual(sorted(world), sorted(self.requested(stock)))
                # A second runtime path: plain runc on umoci's bundle, with the image's user
                # and entrypoint as umoci wrote them into config.json.
                config = json.loads((bundle / "config.json").read_text())
                self.assertEqual(config["process"]["user"]["uid"], 65532)
                config["process"]["terminal"] = False
                (bundle / "config.json").write_text(json.dumps(config))
                result = subprocess.run(["runc", "run", "-b", bundle,
                                         f"distill-alpine-{os.getpid()}"],
                                        capture_output=True, text=True, timeout=300)
                self.assertEqual(result.returncode, 0, result.stderr)
                self.check_output(result.stdout)
                shutil.rmtree(bundle)

    def requested(self, stock):
        """The packages the manifest (with what it includes) asks for by name."""
        return [p["name"] for p in self.plans[stock]["packages"] if len(p["why"]) == 1]

    # --- what a scanner reads -------------------------------------------------------------

    def test_scanner_sees_alpine_3_19_and_every_package(self):
        for stock, layout in sorted(self.images.items()):
            with self.subTest(stock):
                files = {m.name.lstrip("./").rstrip("/"): content
                         for m, content in dt.layer_members(dt.image_files(layout)[2])[0]}
                release = files["etc/alpine-release"].decode()
                self.assertRegex(release, r"^3\.19\.\d+\n$")
                os_release = dict(line.split("=", 1) for line in
                                  files["etc/os-release"].decode().splitlines() if "=" in line)
                self.assertEqual(os_release["ID"], "alpine")
                self.assertEqual(os_release["VERSION_ID"], release.strip())
                installed = installed_records(files["lib/apk/db/installed"].decode())
                planned = {p["name"]: p for p in self.plans[stock]["packages"]}
                self.assertEqual(sorted(installed), sorted(planned))
                self.assertEqual(len(planned), self.results[stock]["archs"][0]["packages"])
                for name, package in planned.items():
                    record = installed[name]
                    self.assertEqual(record["V"], [package["version"]], name)
                    self.assertEqual(record["A"], ["x86_64"], name)
                    self.assertEqual(record["C"], [package["checksum"]], name)
                    self.assertTrue(re.fullmatch(r"\S+", record["o"][0]), name)
                print(f"{stock}: {len(installed)} packages in apk's database: "
                      f"{', '.join(sorted(installed))}")

    def test_sboms_describe_the_images(self):
        """Both SBOMs of each stock image against their schemas, the plan, apk's database and
        the layer (dt.check_sboms); purls are pkg:apk/alpine with the release."""
        schemas = dt.SbomSchemas()
        for stock, layout in sorted(self.images.items()):
            with self.subTest(stock):
                paths = dt.layer_paths(dt.image_files(layout)[2])
                installed = installed_records(paths["/lib/apk/db/installed"][1].decode())
                spdx, cyclonedx = dt.check_sboms(
                    self, layout, schemas, list(installed),
                    [p["name"] for p in self.plans[stock]["packages"]])
                purls = [dt.parse_purl(c["purl"]) for c in cyclonedx["components"]
                         if c["type"] == "library"]
                self.assertEqual({(p["type"], p["namespace"]) for p in purls},
                                 {("apk", "alpine")})
                self.assertTrue(all(p["qualifiers"]["distro"].startswith("alpine-3.19")
                                    for p in purls))
                musl = next(p for p in spdx["packages"] if p["name"] == "musl")
                self.assertEqual(musl["licenseDeclared"], "MIT")
                print(f"{stock}: SBOMs of {len(purls)} packages, {len(spdx['files'])} files")


if __name__ == "__main__":
    dt.main()
