"""Integration: `distill build` against a signed apt repository of packages made here.

The packages are built at test time with dpkg-deb; what dpkg-deb refuses to build (paths with
`..`, hard links out of the package, device nodes without root) is written with Python's
tarfile instead. The repository is signed with a throwaway key and served on 127.0.0.1.
"""

import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
import tarfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
import distill_test as dt  # noqa: E402

GOLDEN = dt.source_dir() / "tests" / "data" / "golden" / "local-repo.json"


def good_packages(pool):
    """A small library, a program using it, and a few things the path policy and the setuid
    rule act on."""
    lib = dt.build_deb(pool, "libhello1", {
        "/usr/lib/x86_64-linux-gnu/libhello.so.1": (b"\x7fELF libhello", 0o644),
        "/lib/x86_64-linux-gnu/libold.so.0": (b"\x7fELF libold", 0o644),
        "/usr/share/doc/libhello1/copyright": b"Licensed under the Apache License 2.0\n",
        "/usr/share/doc/libhello1/changelog.Debian.gz": b"changes",
        "/usr/share/man/man3/hello.3.gz": b"manual",
        "/usr/share/locale/de/LC_MESSAGES/hello.mo": b"Hallo",
    }, Multi_Arch="same")
    hello = dt.build_deb(pool, "hello", {
        "/usr/bin/hello": (b"\x7fELF hello", 0o755),
        "/usr/bin/hello-admin": (b"\x7fELF admin", 0o4755),
        "/bin/hello-legacy": ("symlink", "../usr/bin/hello"),
        "/etc/hello.conf": b"greeting=hello\n",
        "/usr/share/doc/hello/copyright": b"Licensed under the Apache License 2.0\n",
    }, Depends="libhello1 (>= 1.0), dash")
    dash = dt.build_deb(pool, "dash", {"/bin/dash": (b"\x7fELF dash", 0o755)})
    return [lib, hello, dash]


class Build(dt.TestCase):
    def setUp(self):
        super().setUp()
        self.local = dt.LocalRepo(self.scratch)
        self.output = self.scratch / "out" / "image"

    def publish(self, debs):
        self.local.publish(debs)

    def manifest(self, url, packages, extra="", name="image.yaml"):
        return dt.write_manifest(self.scratch / name, "hello", [self.local.source(url)],
                                 packages, extra)

    def build(self, manifest, *args, check=0, env=None, output=None):
        result = self.distill("build", "--json", "-o", output or self.output, *args, manifest,
                              check=check, env=env)
        return json.loads(result.stdout) if check == 0 else result

    def staging_leftovers(self):
        return sorted(p.name for p in self.output.parent.iterdir() if ".distill-" in p.name)

    # --- a good image --------------------------------------------------------------------

    def test_image_from_a_local_repository(self):
        self.publish(good_packages(self.local.pool))
        with dt.Server(self.local.root) as server:
            manifest = self.manifest(server.url, ["hello"])
            result = self.build(manifest, env={"SOURCE_DATE_EPOCH": ""})
        self.assertRegex(result["digest"], "^sha256:[0-9a-f]{64}$")
        self.assertEqual(result["layout"], str(self.output))
        self.assertEqual(result["epoch"], dt.FIXED_TIME)  # the newest package's date
        self.assertIsNone(result["previous_digest"])
        arch = result["archs"][0]
        self.assertEqual(arch["packages"], 2)  # dash is excluded: a shell

        checked = dt.OciSchemas().check_layout(self.output)
        self.assertGreaterEqual(checked, 4)
        manifest_doc, config, layer = dt.image_files(self.output)
        self.assertEqual(manifest_doc["layers"][0]["mediaType"],
                         "application/vnd.oci.image.layer.v1.tar+gzip")
        members, tar = dt.layer_members(layer)
        self.assertEqual(config["rootfs"]["diff_ids"], ["sha256:" + hashlib.sha256(tar).hexdigest()])
        self.assertEqual(config["config"]["User"], "65532:65532")
        self.assertEqual(config["created"], "2023-11-14T22:13:20Z")
        self.assertEqual(config["architecture"], "amd64")

        names = [m.name for m, _ in members]
        self.assertEqual(names, sorted(names, key=lambda n: n.encode()))
        by_name = {m.name: (m, data) for m, data in members}
        for member, _ in members:
            self.assertEqual(member.mtime, dt.FIXED_TIME, member.name)
            self.assertEqual((member.uname, member.gname), ("", ""), member.name)
            self.assertFalse(member.mode & (stat.S_ISUID | stat.S_ISGID), member.name)
        # Merged /usr: /bin and /lib are links, their contents moved under /usr.
        self.assertEqual(by_name["bin"][0].linkname, "usr/bin")
        self.assertEqual(by_name["lib"][0].linkname, "usr/lib")
        self.assertIn("usr/lib/x86_64-linux-gnu/libold.so.0", by_name)
        self.assertEqual(by_name["usr/bin/hello-legacy"][0].linkname, "../usr/bin/hello")
        # The setuid bit is gone; the program is still executable.
        self.assertEqual(by_name["usr/bin/hello-admin"][0].mode, 0o755)
        # Documentation, manuals and translations dropped; the licence kept.
        self.assertIn("usr/share/doc/libhello1/copyright", by_name)
        for dropped in ("usr/share/doc/libhello1/changelog.Debian.gz",
                        "usr/share/man/man3/hello.3.gz", "usr/share/locale/de/LC_MESSAGES/hello.mo"):
            self.assertNotIn(dropped, by_name)
        self.assertNotIn("usr/bin/dash", by_name)
        # What maintainer scripts would have made.
        self.assertIn(b"nonroot:x:65532:65532:", by_name["etc/passwd"][1])
        self.assertEqual(by_name["tmp/"][0].mode if "tmp/" in by_name else by_name["tmp"][0].mode,
                         0o1777)
        home = by_name.get("home/nonroot/") or by_name["home/nonroot"]
        self.assertEqual((home[0].uid, home[0].mode), (65532, 0o700))
        status = by_name["var/lib/dpkg/status"][1].decode()
        self.assertIn("Package: hello\nStatus: install ok installed\n", status)
        self.assertIn("Package: libhello1\nStatus: install ok installed\n", status)
        listing = by_name["var/lib/dpkg/info/libhello1:amd64.list"][1].decode()
        self.assertIn("/lib/x86_64-linux-gnu/libold.so.0\n", listing)
        self.assertNotIn("changelog", listing)

    def test_setuid_bits_stay_where_the_manifest_allows(self):
        self.publish(good_packages(self.local.pool))
        with dt.Server(self.local.root) as server:
            manifest = self.manifest(server.url, ["hello"],
                                     "paths:\n  setuid: [/usr/bin/hello-admin]\n")
            self.build(manifest)
        members, _ = dt.layer_members(dt.image_files(self.output)[2])
        modes = {m.name: m.mode for m, _ in members}
        self.assertEqual(modes["usr/bin/hello-admin"], 0o4755)

    def test_golden_digest(self):
        """The bytes of an image are pinned: any change to what distill writes shows here.
        Regenerate with tests/data/golden/regenerate.sh after an intended change."""
        self.publish(good_packages(self.local.pool))
        with dt.Server(self.local.root) as server:
            manifest = self.manifest(server.url, ["hello"])
            result = self.build(manifest, env={"SOURCE_DATE_EPOCH": ""})
        mine = {"digest": result["digest"], "diff_id": result["archs"][0]["layer"]["diff_id"],
                "layer": result["archs"][0]["layer"]["digest"]}
        if os.environ.get("DISTILL_UPDATE_GOLDEN") == "1":
            GOLDEN.parent.mkdir(parents=True, exist_ok=True)
            GOLDEN.write_text(json.dumps(mine, indent=2) + "\n")
        self.assertEqual(json.loads(GOLDEN.read_text()), mine)

    def test_same_digest_whatever_the_cache_clock_zone_umask_and_jobs(self):
        self.publish(good_packages(self.local.pool))
        with dt.Server(self.local.root) as server:
            manifest = self.manifest(server.url, ["hello"])
            digests = dt.digests_under_perturbations(self.scratch, manifest)
        self.assertEqual(len(digests), 1, digests)

    def test_second_build_reports_no_change(self):
        self.publish(good_packages(self.local.pool))
        with dt.Server(self.local.root) as server:
            manifest = self.manifest(server.url, ["hello"])
            first = self.build(manifest)
            second = self.build(manifest)
        self.assertTrue(first["changed"])
        self.assertFalse(second["changed"])
        self.assertEqual(second["previous_digest"], first["digest"])

    def test_archive_formats(self):
        dt.require_programs("skopeo")
        self.publish(good_packages(self.local.pool))
        with dt.Server(self.local.root) as server:
            manifest = self.manifest(server.url, ["hello"])
            layout = self.build(manifest)
            oci = self.build(manifest, "--format", "oci-archive",
                             output=self.scratch / "image.oci.tar")
            docker = self.build(manifest, "--format", "docker-archive", "--tag", "1.0",
                                output=self.scratch / "image.docker.tar")
        self.assertEqual(oci["digest"], layout["digest"])
        with tarfile.open(self.scratch / "image.oci.tar") as archive:
            names = archive.getnames()
        self.assertIn("index.json", names)
        self.assertIn("oci-layout", names)
        inspected = json.loads(subprocess.run(
            ["skopeo", "inspect", f"oci-archive:{self.scratch / 'image.oci.tar'}"],
            capture_output=True, text=True, check=True).stdout)
        self.assertEqual(inspected["Digest"], layout["digest"])
        inspected = json.loads(subprocess.run(
            ["skopeo", "inspect", f"docker-archive:{self.scratch / 'image.docker.tar'}"],
            capture_output=True, text=True, check=True).stdout)
        self.assertEqual(inspected["Architecture"], "amd64")
        self.assertEqual(docker["archs"][0]["layer"]["media_type"],
                         "application/vnd.oci.image.layer.v1.tar")

    def archive_json(self, path, member):
        with tarfile.open(path) as archive:
            return json.load(archive.extractfile(member))

    def test_tag_names_the_image_in_archives(self):
        """A whole reference names the image as it is; a bare tag names it NAME:TAG in the
        archives and stays a bare ref name in the layout."""
        dt.require_programs("skopeo")
        self.publish(good_packages(self.local.pool))
        docker_tar = self.scratch / "docker.tar"
        oci_tar = self.scratch / "oci.tar"
        with dt.Server(self.local.root) as server:
            manifest = self.manifest(server.url, ["hello"])
            docker = self.distill("build", "--format", "docker-archive", "-o", docker_tar,
                                  "--tag", "localhost/team/hello:1.2", manifest, check=0)
            docker_json = self.build(manifest, "--format", "docker-archive",
                                     "--tag", "localhost/team/hello:1.2", output=docker_tar)
            oci = self.build(manifest, "--format", "oci-archive", "--tag",
                             "registry.example.org:5000/team/hello", output=oci_tar)
            bare = self.build(manifest, "--format", "docker-archive", "--tag", "1.0",
                              output=self.scratch / "bare.tar")
            layout = self.build(manifest, "--tag", "1.0")
            named_layout = self.build(manifest, "--tag", "localhost/hello:2",
                                      output=self.scratch / "named")

        # docker-archive: RepoTags, the ref name and containerd's name agree.
        self.assertEqual(self.archive_json(docker_tar, "manifest.json")[0]["RepoTags"],
                         ["localhost/team/hello:1.2"])
        annotations = self.archive_json(docker_tar, "index.json")["manifests"][0]["annotations"]
        self.assertEqual(annotations, {
            "org.opencontainers.image.ref.name": "localhost/team/hello:1.2",
            "io.containerd.image.name": "localhost/team/hello:1.2"})
        self.assertEqual(docker_json["ref_name"], "localhost/team/hello:1.2")
        self.assertEqual(docker_json["image_name"], "localhost/team/hello:1.2")
        self.assertEqual(docker_json["archive_size"], docker_tar.stat().st_size)
        self.assertEqual(docker_json["compression"], "none")
        self.assertEqual(docker_json["media_type"], "application/vnd.oci.image.manifest.v1+json")
        # skopeo picks the image out of each archive by that name.
        for reference in (f"docker-archive:{docker_tar}:localhost/team/hello:1.2",
                          f"oci-archive:{docker_tar}:localhost/team/hello:1.2"):
            inspected = json.loads(subprocess.run(["skopeo", "inspect", reference],
                                                  capture_output=True, text=True,
                                                  check=True).stdout)
            self.assertEqual(inspected["Architecture"], "amd64", reference)
        # The summary says what the sizes and the digest are, and the name.
        self.assertRegex(docker.stdout, r"hello \(amd64\): 2 packages, \d+ files, [\d.]+ [kM]?B "
                                        r"uncompressed layer \(")
        self.assertNotIn(" compressed", docker.stdout)
        self.assertIn(f"docker-archive {docker_tar} (new, ", docker.stdout)
        self.assertIn(f"): image manifest {docker_json['digest']}\n", docker.stdout)
        self.assertIn(f"loads as localhost/team/hello:1.2 (docker load -i {docker_tar}, "
                      f"podman load -i {docker_tar})", docker.stdout)

        # oci-archive: no manifest.json; the tag defaults to latest.
        with tarfile.open(oci_tar) as archive:
            self.assertNotIn("manifest.json", archive.getnames())
        annotations = self.archive_json(oci_tar, "index.json")["manifests"][0]["annotations"]
        self.assertEqual(annotations, {
            "org.opencontainers.image.ref.name": "registry.example.org:5000/team/hello:latest",
            "io.containerd.image.name": "registry.example.org:5000/team/hello:latest"})
        self.assertEqual(oci["compression"], "gzip")
        inspected = json.loads(subprocess.run(
            ["skopeo", "inspect",
             f"oci-archive:{oci_tar}:registry.example.org:5000/team/hello:latest"],
            capture_output=True, text=True, check=True).stdout)
        self.assertEqual(inspected["Digest"], oci["digest"])

        # A bare tag: NAME:TAG, which docker and containerd read as docker.io/library/NAME:TAG.
        self.assertEqual(self.archive_json(self.scratch / "bare.tar", "manifest.json")[0]
                         ["RepoTags"], ["hello:1.0"])
        annotations = self.archive_json(self.scratch / "bare.tar",
                                        "index.json")["manifests"][0]["annotations"]
        self.assertEqual(annotations, {"org.opencontainers.image.ref.name": "hello:1.0",
                                       "io.containerd.image.name": "docker.io/library/hello:1.0"})
        self.assertEqual(bare["image_name"], "docker.io/library/hello:1.0")

        # A layout keeps a bare tag as its ref name (oci:DIR:TAG), and a whole reference whole.
        index = json.loads((self.output / "index.json").read_text())
        self.assertEqual(index["manifests"][0]["annotations"],
                         {"org.opencontainers.image.ref.name": "1.0"})
        self.assertEqual(layout["ref_name"], "1.0")
        self.assertIsNone(layout["image_name"])
        self.assertIsNone(layout["archive_size"])
        index = json.loads((self.scratch / "named" / "index.json").read_text())
        self.assertEqual(index["manifests"][0]["annotations"],
                         {"org.opencontainers.image.ref.name": "localhost/hello:2"})
        inspected = json.loads(subprocess.run(
            ["skopeo", "inspect", f"oci:{self.scratch / 'named'}:localhost/hello:2"],
            capture_output=True, text=True, check=True).stdout)
        self.assertEqual(inspected["Digest"], named_layout["digest"])
        dt.OciSchemas().check_layout(self.scratch / "named")

    def test_an_invalid_reference_is_a_usage_error(self):
        self.publish(good_packages(self.local.pool))
        output = self.scratch / "out" / "image.tar"
        cases = {
            "localhost/Team/hello:1": "the repository name must be lowercase (`Team`)",
            "localhost/hello@sha256:" + "a" * 64: "a build cannot choose",
            "-1": "`-1` is not a valid tag",
            "localhost//hello": "empty path component",
            "local_host.org/hello": "the registry `local_host.org`",
            "hello:" + "t" * 129: "at most 128 characters",
        }
        with dt.Server(self.local.root) as server:
            manifest = self.manifest(server.url, ["hello"])
            for tag, says in cases.items():
                with self.subTest(tag=tag):
                    result = self.distill("build", "--format", "docker-archive", "-o", output,
                                          "--tag", tag, manifest, check=2)
                    self.assertIn(says, result.stderr)
                    self.assertIn("registry.example.org/team/app:1.2", result.stderr)  # an example
                    self.assertEqual(result.stdout, "")
            # Refused before anything was fetched or written.
            self.assertEqual(server.log, [])
            self.assertFalse(output.parent.exists())
            self.assertFalse(manifest.with_suffix(".lock").exists())

            # A manifest name that cannot be a repository name needs a whole reference in an
            # archive; a layout takes a bare tag as before.
            odd = self.manifest(server.url, ["hello"], name="odd.yaml")
            odd.write_text(odd.read_text().replace("name: hello", "name: hello-"))
            result = self.distill("build", "--format", "docker-archive", "-o", output, odd,
                                  check=2)
            self.assertIn("the image name `hello-` cannot be a repository name", result.stderr)
            self.assertFalse(output.parent.exists())
            self.distill("build", "-o", self.scratch / "odd", odd, check=0)
            self.distill("build", "--format", "docker-archive", "-o", output, "--tag",
                         "localhost/odd:1", odd, check=0)
        self.assertEqual(self.archive_json(output, "manifest.json")[0]["RepoTags"],
                         ["localhost/odd:1"])

    def test_zstd_layers(self):
        self.publish(good_packages(self.local.pool))
        with dt.Server(self.local.root) as server:
            gzip_result = self.build(self.manifest(server.url, ["hello"]))
            result = self.build(self.manifest(server.url, ["hello"]), "--compression", "zstd",
                                output=self.scratch / "zstd")
        layer = result["archs"][0]["layer"]
        self.assertEqual(layer["media_type"], "application/vnd.oci.image.layer.v1.tar+zstd")
        # The same tar, compressed another way.
        self.assertEqual(layer["diff_id"], gzip_result["archs"][0]["layer"]["diff_id"])
        _, config, blob = dt.image_files(self.scratch / "zstd")
        _, tar = dt.layer_members(blob)
        self.assertEqual(config["rootfs"]["diff_ids"], ["sha256:" + hashlib.sha256(tar).hexdigest()])
        dt.OciSchemas().check_layout(self.scratch / "zstd")

    def test_several_architectures_give_an_image_index(self):
        debs = [dt.build_deb(self.local.pool, "tzdata-like", {"/usr/share/zoneinfo/Etc/UTC": b"TZif"},
                             arch="all")]
        dt.write_repo(self.local.root, "bookworm",
                      {"main": [dt.package_fields(deb, self.local.root) for deb in debs]}, self.local.key,
                      archs=("amd64", "arm64"))
        with dt.Server(self.local.root) as server:
            manifest = self.manifest(server.url, ["tzdata-like"])
            manifest.write_text(manifest.read_text().replace("archs: [amd64]",
                                                             "archs: [amd64, arm64]"))
            result = self.build(manifest)
            refused = self.build(manifest, "--format", "docker-archive",
                                 output=self.scratch / "d.tar", check=2)
        self.assertIn("a docker-archive holds one architecture", refused.stderr)
        self.assertEqual([a["arch"] for a in result["archs"]], ["amd64", "arm64"])
        dt.OciSchemas().check_layout(self.output)
        index = json.loads((self.output / "index.json").read_text())
        top = index["manifests"][0]
        self.assertEqual(top["mediaType"], "application/vnd.oci.image.index.v1+json")
        self.assertEqual(top["digest"], result["digest"])
        self.assertEqual(result["media_type"], top["mediaType"])
        image_index = json.loads((self.output / "blobs" / "sha256" /
                                  top["digest"].split(":")[1]).read_text())
        platforms = [(m["platform"]["architecture"], m["platform"].get("variant"))
                     for m in image_index["manifests"]]
        self.assertEqual(platforms, [("amd64", None), ("arm64", "v8")])
        # One epoch for both; the layers differ only where the architecture shows.
        self.assertEqual(len({a["digest"] for a in result["archs"]}), 2)

    def test_extra_certificates_go_into_the_bundle_the_hashed_directory_and_the_truststore(self):
        dt.require_programs("openssl", "keytool")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", self.scratch / "ca.key",
                        "-out", self.scratch / "internal-ca.pem", "-days", "30", "-subj",
                        "/CN=distill test internal CA"], check=True, capture_output=True)
        pem = (self.scratch / "internal-ca.pem").read_text()
        jvm = dt.build_deb(self.local.pool, "fake-jre", {
            "/usr/lib/jvm/fake/bin/java": (b"\x7fELF java", 0o755),
            "/usr/lib/jvm/fake/lib/security/cacerts": ("symlink", "/etc/ssl/certs/java/cacerts"),
        })
        self.publish(good_packages(self.local.pool) + [jvm])
        with dt.Server(self.local.root) as server:
            self.build(self.manifest(server.url, ["hello", "fake-jre"],
                                     f"certificates: [{self.scratch / 'internal-ca.pem'}]\n"))
        members, _ = dt.layer_members(dt.image_files(self.output)[2])
        files = {m.name: data for m, data in members}
        links = {m.name: m.linkname for m, _ in members if m.issym()}
        self.assertEqual(files["etc/ssl/certs/ca-certificates.crt"].decode().strip(), pem.strip())
        # As update-ca-certificates and `openssl rehash` would leave a local certificate, and
        # where Debian's OpenSSL looks.
        self.assertEqual(files["usr/local/share/ca-certificates/internal-ca.crt"].decode().strip(),
                         pem.strip())
        self.assertEqual(links["etc/ssl/certs/internal-ca.pem"],
                         "/usr/local/share/ca-certificates/internal-ca.crt")
        subject_hash = subprocess.run(["openssl", "x509", "-noout", "-subject_hash", "-in",
                                       self.scratch / "internal-ca.pem"], capture_output=True,
                                      text=True, check=True).stdout.strip()
        self.assertEqual(links[f"etc/ssl/certs/{subject_hash}.0"], "internal-ca.pem")
        self.assertEqual(sorted(n for n in links if n.startswith("etc/ssl/certs/")),
                         [f"etc/ssl/certs/{subject_hash}.0", "etc/ssl/certs/internal-ca.pem"])
        self.assertEqual(links["usr/lib/ssl/certs"], "/etc/ssl/certs")
        self.assertEqual(links["usr/lib/ssl/cert.pem"], "/etc/ssl/certs/ca-certificates.crt")
        self.assertEqual(files["usr/bin/java"], None)  # a link, as update-alternatives makes
        truststore = self.scratch / "cacerts"
        truststore.write_bytes(files["etc/ssl/certs/java/cacerts"])
        listing = subprocess.run(["keytool", "-list", "-keystore", truststore, "-storepass",
                                  "changeit"], capture_output=True, text=True,
                                 env={**os.environ, "LC_ALL": "C"})
        self.assertEqual(listing.returncode, 0, listing.stderr)
        self.assertIn("internal-ca.pem", listing.stdout)
        self.assertIn("trustedCertEntry", listing.stdout)

    def test_refuses_to_replace_a_directory_that_is_not_a_layout(self):
        self.publish(good_packages(self.local.pool))
        self.output.mkdir(parents=True)
        (self.output / "precious.txt").write_text("keep me")
        with dt.Server(self.local.root) as server:
            result = self.build(self.manifest(server.url, ["hello"]), check=1)
        self.assertIn("is not an OCI image layout; refusing to replace it", result.stderr)
        self.assertEqual((self.output / "precious.txt").read_text(), "keep me")
        self.assertEqual(self.staging_leftovers(), [])

    def test_interrupted_build_leaves_the_previous_output(self):
        self.publish(good_packages(self.local.pool))
        with dt.Server(self.local.root) as server:
            manifest = self.manifest(server.url, ["hello"])
            before = self.build(manifest)["digest"]
        # A new version to download, served slowly, and a Ctrl-C while it downloads.
        newer = dt.build_deb(self.local.pool, "libhello1", {"/usr/lib/x86_64-linux-gnu/libhello.so.1":
                                                      b"\x7fELF libhello v2"},
                             version="2.0-1", Multi_Arch="same")
        self.publish(good_packages(self.local.pool) + [newer])
        with dt.Server(self.local.root, delay=5) as server:
            manifest = self.manifest(server.url, ["hello"])
            process = subprocess.Popen(
                [dt.binary(), "--cache-dir", self.cache, "build", "-o", self.output, manifest],
                stderr=subprocess.PIPE, text=True)
            deadline = time.monotonic() + 60
            while not server.arrived_for(".deb") and time.monotonic() < deadline:
                time.sleep(0.05)
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=60)
        self.assertEqual(process.returncode, 130, stderr)
        self.assertIn("interrupted", stderr)
        index = json.loads((self.output / "index.json").read_text())
        self.assertEqual(index["manifests"][0]["digest"], before)
        self.assertEqual(self.staging_leftovers(), [])
        blobs = self.cache / "blobs" / "sha256"
        for blob in blobs.iterdir():
            self.assertRegex(blob.name, "^[0-9a-f]{64}$", "a partial download stayed")

    def test_transient_server_errors_are_retried(self):
        self.publish(good_packages(self.local.pool))
        with dt.Server(self.local.root, fail_first={"hello_1.0-1_amd64.deb": 2}) as server:
            self.build(self.manifest(server.url, ["hello"]))
            served = server.requests_for("hello_1.0-1_amd64.deb")
        self.assertEqual([code for _, _, code in served], [503, 503, 200])

    def test_downloads_run_in_parallel(self):
        debs = good_packages(self.local.pool)
        debs += [dt.build_deb(self.local.pool, f"extra{i}", {f"/usr/share/extra{i}/data": b"x" * i})
                 for i in range(4)]
        self.publish(debs)
        with dt.Server(self.local.root, delay=1.0) as server:
            self.build(self.manifest(server.url, ["hello"] + [f"extra{i}" for i in range(4)]))
            arrivals = [when for when, _ in server.arrived_for(".deb")]
        # Every answer takes a second; all six requests arrived before the first was answered.
        self.assertEqual(len(arrivals), 6)
        self.assertLess(max(arrivals) - min(arrivals), 0.9)

    # --- packages that must not get in ----------------------------------------------------

    def expect_refused(self, debs, packages, exit_code, *fragments):
        """Builds a good image first, then one with `debs`; the second must fail with
        `exit_code` and messages containing `fragments`, and leave the good one in place."""
        good = good_packages(self.local.pool)
        self.publish(good + debs)
        escape = self.scratch / "escape"
        with dt.Server(self.local.root) as server:
            before = self.build(self.manifest(server.url, ["hello"]))["digest"]
            result = self.build(self.manifest(server.url, packages, name="evil.yaml"),
                                check=exit_code)
        for fragment in fragments:
            self.assertIn(fragment, result.stderr)
        index = json.loads((self.output / "index.json").read_text())
        self.assertEqual(index["manifests"][0]["digest"], before)
        self.assertEqual(self.staging_leftovers(), [])
        self.assertFalse(escape.exists(), "something was written outside the output")
        return result

    def test_dot_dot_paths_are_refused(self):
        evil = dt.craft_deb(self.local.pool, "evil-dotdot", [
            dt.tar_info("./", tarfile.DIRTYPE, 0o755),
            (dt.tar_info(f"./usr/../../../..{self.scratch}/escape/pwned"), b"owned"),
        ])
        self.expect_refused([evil], ["evil-dotdot"], 7, "evil-dotdot: ", "climbs out of the image root")

    def test_paths_through_a_symlinked_parent_are_refused(self):
        link = dt.build_deb(self.local.pool, "evil-link",
                            {"/etc/evil": ("symlink", str(self.scratch / "escape"))})
        through = dt.build_deb(self.local.pool, "evil-through", {"/etc/evil/pwned": b"owned"},
                               Depends="evil-link")
        self.expect_refused([link, through], ["evil-through"], 7,
                            "evil-through: `/etc/evil` ", "a symlink (to `",
                            ") from evil-link")

    def test_hard_links_out_of_the_package_are_refused(self):
        evil = dt.craft_deb(self.local.pool, "evil-hardlink", [
            dt.tar_info("./", tarfile.DIRTYPE, 0o755),
            dt.tar_info("./etc/", tarfile.DIRTYPE, 0o755),
            dt.tar_info("./etc/shadow-copy", tarfile.LNKTYPE, link="./etc/shadow"),
        ])
        self.expect_refused([evil], ["evil-hardlink", "hello"], 7,
                            "evil-hardlink: hard link `/etc/shadow-copy` points at `./etc/shadow`")

    def test_device_nodes_are_refused(self):
        if os.geteuid() == 0:
            # dpkg-deb builds it from a real device node.
            evil = dt.build_deb(self.local.pool, "evil-device", {"/dev/.keep": b""})
            root = self.local.pool / "evil-device_1.0-1_amd64.tree"
            os.mknod(root / "dev" / "sda", 0o600 | stat.S_IFBLK, os.makedev(8, 0))
            subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(root), str(evil)],
                           check=True, capture_output=True)
        else:
            evil = dt.craft_deb(self.local.pool, "evil-device", [
                dt.tar_info("./", tarfile.DIRTYPE, 0o755),
                dt.tar_info("./dev/", tarfile.DIRTYPE, 0o755),
                dt.tar_info("./dev/sda", tarfile.BLKTYPE, 0o600),
            ])
        self.expect_refused([evil], ["evil-device"], 7,
                            "evil-device: `/dev/sda` is a block device")

    def test_fifos_are_refused(self):
        evil = dt.craft_deb(self.local.pool, "evil-fifo", [
            dt.tar_info("./", tarfile.DIRTYPE, 0o755),
            dt.tar_info("./run/", tarfile.DIRTYPE, 0o755),
            dt.tar_info("./run/pipe", tarfile.FIFOTYPE, 0o600),
        ])
        self.expect_refused([evil], ["evil-fifo"], 7, "evil-fifo: `/run/pipe` is a FIFO")

    def test_decompression_bombs_are_refused(self):
        zeros = b"\0" * (80 << 20)  # 80 MiB that xz squeezes into a few kB
        bomb = dt.craft_deb(self.local.pool, "bomb", [
            dt.tar_info("./", tarfile.DIRTYPE, 0o755),
            (dt.tar_info("./usr/share/bomb"), zeros),
        ])
        # An honest index: the package claims 100 kB installed; the archive may not expand
        # much past that.
        result = self.expect_refused([bomb], ["bomb"], 7, "bomb 1.0-1: the data archive expands "
                                                          "beyond")
        self.assertIn("Installed-Size", result.stderr)
        # A lying index that claims 10 GB: the ratio bound still stops it.
        fields = dt.package_fields(bomb, self.local.root)
        fields["Installed-Size"] = str(10 << 20)  # KiB
        dt.write_repo(self.local.root, "bookworm",
                      {"main": [dt.package_fields(d, self.local.root) for d in good_packages(self.local.pool)]
                               + [fields]}, self.local.key)
        with dt.Server(self.local.root) as server:
            result = self.build(self.manifest(server.url, ["bomb"], name="bomb.yaml"), check=7,
                                output=self.scratch / "bomb-out")
        self.assertIn("bomb 1.0-1: the data archive expands more than 200 times its compressed "
                      "size", result.stderr)
        self.assertFalse((self.scratch / "bomb-out").exists())

    def test_two_packages_with_different_content_at_one_path_are_refused(self):
        one = dt.build_deb(self.local.pool, "conf-one", {"/etc/shared.conf": b"one\n"})
        two = dt.build_deb(self.local.pool, "conf-two", {"/etc/shared.conf": b"two\n"})
        same = dt.build_deb(self.local.pool, "conf-same", {"/etc/shared.conf": b"one\n"})
        self.expect_refused([one, two, same], ["conf-one", "conf-two"], 1,
                            "`/etc/shared.conf` is shipped by both conf-")
        # Identical content at one path is fine.
        with dt.Server(self.local.root) as server:
            self.build(self.manifest(server.url, ["conf-one", "conf-same"], name="same.yaml"),
                       output=self.scratch / "same")

    def test_a_package_whose_hash_does_not_match_is_never_used(self):
        good = good_packages(self.local.pool)
        self.publish(good)
        # Swap the file after the index was signed: the index's hash no longer matches.
        hello = next(p for p in good if p.name.startswith("hello_"))
        hello.write_bytes(hello.read_bytes()[:-10] + b"0123456789")
        with dt.Server(self.local.root) as server:
            result = self.build(self.manifest(server.url, ["hello"]), check=4)
        self.assertIn("sha256 mismatch", result.stderr)
        self.assertIn("hello 1.0-1", result.stderr)
        self.assertFalse(self.output.exists())
        self.assertEqual(self.staging_leftovers(), [])


if __name__ == "__main__":
    dt.main()
