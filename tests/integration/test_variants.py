"""Integration: the variants of an image (`variants: [debug, root]`) and its runtime profile,
on packages made here: hello, and a busybox-static whose binary carries busybox's table of
applet names (it is never run here; the system tests run Debian's)."""

import json
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
import distill_test as dt  # noqa: E402

# What distill reads of a busybox binary: the applet names, sorted, NUL-separated, `[` first.
BUSYBOX = b"\x7fELF busybox\0" + b"\0[\0[[\0ash\0busybox\0cat\0ls\0sh\0\0other data\0"
RUNTIME = """runtime:
  allow_syscalls: [ptrace]
  capabilities: [net_bind_service]
  writable_paths: [/var/cache/hello]
"""
REF = "org.opencontainers.image.ref.name"


class Variants(dt.TestCase):
    def setUp(self):
        super().setUp()
        local = dt.LocalRepo(self.scratch)
        hello = dt.build_deb(local.pool, "hello", {"/usr/bin/hello": (b"\x7fELF hello", 0o755)})
        busybox = dt.build_deb(local.pool, "busybox-static", {
            "/bin/busybox": (BUSYBOX, 0o755),
            "/usr/share/doc/busybox-static/copyright": "Copyright busybox\n",
        }, version="1:1.35.0-4")
        local.publish([hello, busybox])
        self.server = dt.Server(local.root).__enter__()
        self.addCleanup(self.server.__exit__, None, None, None)
        self.source = local.source(self.server.url)
        self.manifest = self.scratch / "hello.yaml"
        dt.write_manifest(self.manifest, "hello", [self.source], ["hello"],
                          "variants: [debug, root]\n" + RUNTIME)

    def build(self, manifest, out, *args):
        return json.loads(self.distill("build", "--json", "-o", out, *args, manifest,
                                       check=0).stdout)

    def test_variants_are_tagged_beside_the_image_which_stays_as_it_was(self):
        out = self.scratch / "out"
        result = self.build(self.manifest, out)
        index = json.loads((out / "index.json").read_text())
        images = [m for m in index["manifests"] if "artifactType" not in m]
        self.assertEqual([m["annotations"][REF] for m in images],
                         ["latest", "latest-debug", "latest-root"])
        self.assertEqual([(v["name"], v["ref_name"], v["digest"]) for v in result["variants"]],
                         [("debug", "latest-debug", images[1]["digest"]),
                          ("root", "latest-root", images[2]["digest"])])
        # Without variants the image is the same, byte for byte.
        plain = self.scratch / "plain" / "hello.yaml"
        plain.parent.mkdir()
        dt.write_manifest(plain, "hello", [self.source], ["hello"], RUNTIME)
        self.assertEqual(self.build(plain, self.scratch / "plain-out")["digest"],
                         result["digest"])

        main = json.loads(dt.blob(out, images[0]["digest"]))
        debug = json.loads(dt.blob(out, images[1]["digest"]))
        root = json.loads(dt.blob(out, images[2]["digest"]))
        self.assertEqual(debug["layers"][0], main["layers"][0])
        self.assertEqual(root["layers"], main["layers"])
        self.assertEqual(len(debug["layers"]), 2)
        paths = dt.layer_paths(dt.blob(out, debug["layers"][1]["digest"]))
        self.assertEqual(paths["/busybox/busybox"][1], BUSYBOX)
        self.assertEqual(paths["/busybox/busybox"][0].mode & 0o777, 0o755)
        for applet in ("[", "[[", "ash", "cat", "ls", "sh"):
            self.assertTrue(paths[f"/busybox/{applet}"][0].issym(), applet)
            self.assertEqual(paths[f"/busybox/{applet}"][0].linkname, "busybox")
        self.assertNotIn("/usr/bin/busybox", paths)
        self.assertNotIn("/bin/busybox", paths)
        self.assertNotIn("/busybox", dt.layer_paths(dt.blob(out, main["layers"][0]["digest"])))
        debug_config = json.loads(dt.blob(out, debug["config"]["digest"]))["config"]
        self.assertEqual(debug_config["Entrypoint"], ["/busybox/sh"])
        self.assertIn("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/busybox",
                      debug_config["Env"])
        self.assertEqual(debug_config["User"], "65532:65532")
        self.assertEqual(json.loads(dt.blob(out, root["config"]["digest"]))["config"]["User"],
                         "0:0")
        dt.OciSchemas().check_layout(out)

        # The lock pins the variant's package, and a build from it gives the same images.
        lock = json.loads((self.scratch / "hello.lock").read_text())
        locked = {p["name"]: p.get("variant") for p in lock["archs"][0]["packages"]}
        self.assertEqual(locked, {"hello": None, "busybox-static": "debug"})
        again = self.build(self.manifest, self.scratch / "again", "--frozen")
        self.assertEqual((again["digest"], again["variants"]), (result["digest"],
                                                               result["variants"]))

        # plan and inspect say what each variant adds.
        plan = self.distill("plan", self.manifest, check=0).stdout
        self.assertIn("variant debug: adds busybox-static 1:1.35.0-4 (", plan)
        self.assertIn("variant root: the image running as root (uid 0)", plan)
        self.assertIn("hello (debian bookworm, amd64): 1 packages", plan)
        planned = json.loads(self.distill("plan", "--json", self.manifest, check=0).stdout)
        self.assertEqual([p["name"] for p in planned["packages"]], ["hello"])
        self.assertEqual([p["name"] for p in planned["variant_packages"]["debug"]],
                         ["busybox-static"])
        self.assertEqual(planned["variants"], ["debug", "root"])
        inspected = self.distill("inspect", out, check=0).stdout
        self.assertRegex(inspected, r"latest-debug \(sha256:[0-9a-f]{64}\): 1 layer\(s\) of .*"
                                    r'Entrypoint \["/busybox/sh"\]')
        self.assertRegex(inspected, r'latest-root \(sha256:[0-9a-f]{64}\): User "0:0"')

    def test_the_runtime_profile_is_in_the_config_and_beside_the_image(self):
        out = self.scratch / "out"
        self.build(self.manifest, out)
        _, config, _ = dt.image_files(out)
        labels = config["config"]["Labels"]
        profile_file = self.scratch / "out.seccomp.json"
        profile = json.loads(profile_file.read_text())
        self.assertEqual(json.loads(labels["io.containers.seccomp.profile"]), profile)
        denied = {name for rule in profile["syscalls"] if rule.get("errnoRet") == 1
                  for name in rule["names"]}
        allowed = {name for rule in profile["syscalls"] if rule["action"] == "SCMP_ACT_ALLOW"
                   for name in rule["names"]}
        self.assertIn("ptrace", allowed)  # relaxed by the manifest
        self.assertNotIn("ptrace", denied)
        self.assertTrue({"mount", "unshare", "setns", "keyctl", "bpf"} <= denied)
        settings = json.loads(labels["dev.distill.runtime"])
        self.assertEqual(settings, {"user": "65532:65532", "read_only": True,
                                    "tmpfs": ["/tmp", "/var/cache/hello"],
                                    "capabilities": ["CAP_NET_BIND_SERVICE"],
                                    "no_new_privileges": True, "allowed_syscalls": ["ptrace"]})

        run = self.distill("inspect", out, "--run", check=0).stdout
        self.assertIn(f"podman run --read-only --read-only-tmpfs=false "
                      f"--tmpfs /tmp:rw,noexec,nosuid,nodev "
                      f"--tmpfs /var/cache/hello:rw,noexec,nosuid,nodev "
                      f"--cap-drop=ALL --cap-add=CAP_NET_BIND_SERVICE "
                      f"--security-opt=no-new-privileges --security-opt=seccomp={profile_file} "
                      f"--user=65532:65532 oci:{out}:latest", run)
        self.assertIn("--seccomp-policy=image", run)
        self.assertIn("The manifest relaxed it: system calls allowed that the profile denies: "
                      "ptrace.", run)
        self.assertIn("    add: [NET_BIND_SERVICE]\n", run)
        self.assertIn("    localhostProfile: distill/out.json\n", run)
        root = json.loads(self.distill("inspect", out, "--run", "--variant", "root", "--json",
                                       check=0).stdout)
        self.assertEqual(root["settings"]["user"], "0:0")
        self.assertIn("runAsUser: 0\n", root["kubernetes"])
        self.assertEqual(json.loads(self.distill("inspect", out, "--seccomp", check=0).stdout),
                         profile)
        missing = self.distill("inspect", out, "--run", "--variant", "nope", check=2)
        self.assertIn("has no variant `nope`", missing.stderr)
        plan = self.distill("plan", self.manifest, check=0).stdout
        self.assertIn("relaxed by the manifest:", plan)
        self.assertIn("  capabilities kept: CAP_NET_BIND_SERVICE", plan)

    def test_an_archive_holds_the_image_alone_and_says_so(self):
        archive = self.scratch / "hello.tar"
        result = self.distill("build", "--format", "oci-archive", "-o", archive, self.manifest,
                              check=0)
        self.assertIn("the variants are written only in a layout", result.stderr)
        with tarfile.open(archive) as tar:
            index = json.load(tar.extractfile("index.json"))
        self.assertEqual(len(index["manifests"]), 1, index)
        self.assertTrue((self.scratch / "hello.seccomp.json").is_file())

    def test_a_relaxation_that_is_no_syscall_is_a_manifest_error(self):
        bad = self.scratch / "bad.yaml"
        dt.write_manifest(bad, "hello", [self.source], ["hello"],
                          "runtime:\n  allow_syscalls: [mount, ptrac]\n")
        result = self.distill("build", bad, check=3)
        self.assertIn(f"{bad}:", result.stderr)
        self.assertIn("`ptrac` is not a system call the runtime profile knows", result.stderr)
        self.assertIn("did you mean `ptrace`?", result.stderr)


if __name__ == "__main__":
    dt.main()
