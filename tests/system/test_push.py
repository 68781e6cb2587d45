"""System: `distill push` and `distill build --push` against a real registry: Debian's
docker-registry (CNCF distribution 2.8), started by the test on 127.0.0.1 with a config file in
a scratch directory, once plain and once with htpasswd basic auth behind TLS with a throwaway
self-signed certificate. The images are built from the real mirror. Independent readers check
what landed: skopeo (inspect --raw, copy --preserve-digests) and podman (pull and run); the
registry's own access log counts the requests distill made.
"""

import base64
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
import distill_test as dt  # noqa: E402
from registry_test import FaultProxy, Registry, TokenServer  # noqa: E402

MANIFESTS = dt.source_dir() / "manifests"
PROGRAMS = dt.source_dir() / "tests" / "data" / "programs"
HELLO = "hello from uid 65532 (nonroot)\n"


class Push(dt.TestCase):
    @classmethod
    def setUpClass(cls):
        dt.require_programs("docker-registry", "htpasswd", "openssl", "skopeo", "podman", "runc",
                            "gcc")
        if os.geteuid() != 0:
            dt.skip_or_fail("needs root to run podman with its own storage")
        cls.shared = dt.scratch_dir("distill-push-", "/tmp")
        cls.conf = cls.shared / "containers.conf"
        cls.conf.write_text(dt.CONTAINERS_CONF)
        subprocess.run(["gcc", "-O2", "-static", "-o", cls.shared / "hello-static",
                        PROGRAMS / "hello.c"], check=True, capture_output=True)
        cls.cache = cls.shared / "cache"
        cls.registries = []
        try:
            cls.static = cls.build_static("push-static", "")
            # The same packages with another config: the same layer, another config blob.
            cls.static_env = cls.build_static("push-static-env", "  env:\n    MODE: second\n")
            cls.plain = cls.start_registry(Registry(cls.make_dir("plain")))
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for registry in cls.registries:
            registry.stop()
        shutil.rmtree(cls.shared, ignore_errors=True)

    @classmethod
    def make_dir(cls, name):
        path = cls.shared / name
        path.mkdir()
        return path

    @classmethod
    def start_registry(cls, registry):
        cls.registries.append(registry)
        return registry.start()

    @classmethod
    def build_static(cls, name, config):
        manifest = cls.shared / f"{name}.yaml"
        manifest.write_text(
            f"include: {MANIFESTS / 'static.yaml'}\n"
            f"name: {name}\n"
            "files:\n"
            f"  - src: {cls.shared / 'hello-static'}\n"
            "    dst: /usr/local/bin/hello\n"
            "    mode: \"0755\"\n"
            "config:\n"
            "  entrypoint: [/usr/local/bin/hello]\n" + config)
        layout = cls.shared / name
        # Without SBOMs: these images are about how blobs and manifests travel; the java17
        # test pushes SBOMs too.
        result = dt.run(["--cache-dir", cls.cache, "build", "--json", "--no-sbom", "-o", layout,
                         manifest], check=0)
        return {"manifest": manifest, "layout": layout, "result": json.loads(result.stdout)}

    def push(self, layout, *references, args=(), check=0, env=None):
        # The class's cache: its mount hints outlive one push.
        result = dt.run(["--cache-dir", self.cache, "push", "--json", *args, layout,
                         *references], check=check, env=env)
        return json.loads(result.stdout) if check == 0 else result

    def skopeo_digest(self, reference, *args):
        raw = subprocess.run(["skopeo", "inspect", "--raw", *args, f"docker://{reference}"],
                             capture_output=True, check=True, timeout=300).stdout
        return "sha256:" + hashlib.sha256(raw).hexdigest()

    def podman(self, *args, check=True, timeout=300):
        return dt.podman_private(self.shared / "podman", self.conf, *args, check=check,
                                 timeout=timeout)

    # --- a plain registry ----------------------------------------------------------------------

    def test_push_skips_what_is_there_and_mounts_across_repositories(self):
        registry = self.plain
        digest = self.static["result"]["digest"]
        first = self.push(self.static["layout"], f"{registry.host}/team/static:1")
        pushed = first["references"][0]
        self.assertEqual(first["digest"], digest)
        self.assertEqual((pushed["blobs_uploaded"], pushed["blobs_present"]), (2, 0))
        self.assertEqual(self.skopeo_digest(f"{registry.host}/team/static:1",
                                            "--tls-verify=false"), digest)
        uploads = registry.requests("POST", "/team/static/blobs/uploads/")
        self.assertEqual(uploads, 2)

        # Again: the tag already names the image, so nothing is sent.
        puts = registry.requests("PUT", "/team/static/manifests/")
        again = self.push(self.static["layout"], f"{registry.host}/team/static:1")
        self.assertTrue(again["references"][0]["unchanged"])
        self.assertEqual(registry.requests("PUT", "/team/static/manifests/"), puts)
        # With --force the manifests go again, but no blob: HEAD finds both, and the
        # registry saw no upload.
        forced = self.push(self.static["layout"], f"{registry.host}/team/static:1",
                           args=("--force",))
        self.assertEqual((forced["references"][0]["unchanged"],
                          forced["references"][0]["blobs_uploaded"],
                          forced["references"][0]["blobs_present"]), (False, 0, 2))
        self.assertEqual(registry.requests("POST", "/team/static/blobs/uploads/"), uploads)
        self.assertEqual(registry.requests("PUT", "/team/static/manifests/"), puts + 2)

        # A second image with the same layer into another repository: the layer is mounted
        # from the first, only the config is uploaded.
        other = self.push(self.static_env["layout"], f"{registry.host}/other/static-env:1")
        self.assertEqual(self.static_env["result"]["archs"][0]["layer"]["digest"],
                         self.static["result"]["archs"][0]["layer"]["digest"])
        self.assertEqual((other["references"][0]["blobs_mounted"],
                          other["references"][0]["blobs_uploaded"]), (1, 1))
        self.assertEqual(registry.requests("POST", "/other/static-env/blobs/uploads/?mount="), 1)
        self.assertEqual(self.skopeo_digest(f"{registry.host}/other/static-env:1",
                                            "--tls-verify=false"),
                         self.static_env["result"]["digest"])

    def test_variants_go_to_their_own_tags(self):
        registry = self.plain
        built = self.build_static("variants", "variants: [debug, root]\n")
        layout = built["layout"]
        pushed = self.push(layout, f"{registry.host}/team/variants:1")
        references = {r["reference"].rsplit(":", 1)[1]: r for r in pushed["references"]}
        self.assertEqual(sorted(references), ["1", "1-debug", "1-root"])
        index = json.loads((layout / "index.json").read_text())
        by_tag = {m["annotations"]["org.opencontainers.image.ref.name"]: m["digest"]
                  for m in index["manifests"]}
        for tag, ref_name in (("1", "latest"), ("1-debug", "latest-debug"),
                              ("1-root", "latest-root")):
            self.assertEqual(self.skopeo_digest(f"{registry.host}/team/variants:{tag}",
                                                "--tls-verify=false"), by_tag[ref_name])
        # The variants share the image's layer: debug uploads its own layer and config, root
        # its config alone.
        self.assertEqual(references["1-debug"]["blobs_uploaded"], 2)
        self.assertEqual(references["1-root"]["blobs_uploaded"], 1)
        root = f"{registry.host}/team/variants:1-root"
        self.podman("pull", "--tls-verify=false", root)
        ran = self.podman("run", "--rm", "--network=none", "--pull=never", root)
        self.assertEqual(ran.stdout, "hello from uid 0 (root)\n")

    def test_build_push_skips_an_unchanged_tag_and_podman_runs_what_was_pushed(self):
        registry = self.plain
        reference = f"{registry.host}/team/nightly:latest"
        build = ["--cache-dir", self.cache, "build", "--json", "-o", self.shared / "nightly",
                 self.static["manifest"], "--push", reference]
        first = json.loads(dt.run(build, check=0).stdout)
        self.assertFalse(first["push"]["references"][0]["unchanged"])
        puts = registry.requests("PUT", "/team/nightly/manifests/")
        second = json.loads(dt.run(build, check=0).stdout)
        self.assertTrue(second["push"]["references"][0]["unchanged"])
        self.assertEqual(second["push"]["digest"], first["digest"])
        self.assertEqual(registry.requests("PUT", "/team/nightly/manifests/"), puts)
        text = dt.run([a for a in build if a != "--json"], check=0).stdout
        self.assertIn(f"{reference.replace(':latest', '')}:latest: unchanged", text)

        # skopeo copies it with its digests; podman pulls and runs it.
        copy = self.shared / "copied"
        subprocess.run(["skopeo", "copy", "--preserve-digests", "--src-tls-verify=false",
                        f"docker://{reference}", f"oci:{copy}:latest"],
                       check=True, capture_output=True, timeout=300)
        index = json.loads((copy / "index.json").read_text())
        self.assertEqual(index["manifests"][0]["digest"], first["digest"])
        self.podman("pull", "--tls-verify=false", reference)
        ran = self.podman("run", "--rm", "--network=none", "--pull=never", reference)
        self.assertEqual(ran.stdout, HELLO)

    def test_java17_for_amd64_and_arm64_is_built_pushed_copied_and_run(self):
        """The user's line in CI: `distill build java17.yaml --push REF` for amd64 and arm64,
        resolved from the real mirror; then what independent readers see."""
        manifest = self.shared / "java17.yaml"
        manifest.write_text(f"include: {MANIFESTS / 'java17.yaml'}\narchs: [amd64, arm64]\n")
        registry = self.plain
        reference = f"{registry.host}/team/java17:17"
        built = json.loads(dt.run(["--cache-dir", self.cache, "build", "--json", "-o",
                                   self.shared / "java17", manifest, "--push", reference],
                                  check=0).stdout)
        digest = built["digest"]
        self.assertEqual([a["arch"] for a in built["archs"]], ["amd64", "arm64"])
        self.assertEqual(built["push"]["digest"], digest)
        pushed = built["push"]["references"][0]
        self.assertFalse(pushed["unchanged"])
        # Two layers and two configs, and the four SBOMs (SPDX and CycloneDX for each arch) with
        # the artifacts' empty config, each uploaded once; the two manifests and the index by
        # digest, the index under its tag last; the SBOM artifacts as referrers of each arch's
        # manifest, through the tag fallback (docker-registry 2.8 has no referrers API).
        self.assertEqual((pushed["blobs_uploaded"], pushed["blobs_present"]), (9, 0))
        self.assertEqual(registry.requests("POST", "/team/java17/blobs/uploads/"), 9)
        self.assertEqual(pushed["manifests"], 4)
        self.assertEqual((pushed["referrers"], pushed["referrers_api"]), (4, False))
        for arch in built["archs"]:
            fallback = json.loads(subprocess.run(
                ["skopeo", "inspect", "--raw", "--tls-verify=false",
                 f"docker://{registry.host}/team/java17:sha256-{arch['digest'][7:]}"],
                capture_output=True, check=True, timeout=300).stdout)
            self.assertEqual(sorted(m["artifactType"] for m in fallback["manifests"]),
                             ["application/spdx+json", "application/vnd.cyclonedx+json"])
            self.assertEqual(sorted(m["digest"] for m in fallback["manifests"]),
                             sorted(s["digest"] for s in arch["sboms"]))
        puts = registry.requests("PUT", "/team/java17/manifests/")

        raw = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false",
                              f"docker://{reference}"],
                             capture_output=True, check=True, timeout=300).stdout
        self.assertEqual("sha256:" + hashlib.sha256(raw).hexdigest(), digest)
        index = json.loads(raw)
        self.assertEqual(index["mediaType"], "application/vnd.oci.image.index.v1+json")
        self.assertEqual([(m["platform"]["architecture"], m["digest"])
                          for m in index["manifests"]],
                         [(a["arch"], a["digest"]) for a in built["archs"]])

        # A second push sends nothing (the tag names the index); forced, it uploads no blob:
        # the registry sees no upload request.
        again = self.push(self.shared / "java17", reference)["references"][0]
        self.assertTrue(again["unchanged"])
        self.assertEqual(registry.requests("PUT", "/team/java17/manifests/"), puts)
        again = self.push(self.shared / "java17", reference, args=("--force",))["references"][0]
        self.assertEqual((again["blobs_uploaded"], again["blobs_present"]), (0, 9))
        self.assertEqual(registry.requests("POST", "/team/java17/blobs/uploads/"), 9)

        # skopeo copies it out with every digest kept, and back into another repository.
        copy = self.shared / "java17-copied"
        subprocess.run(["skopeo", "copy", "--all", "--preserve-digests", "--src-tls-verify=false",
                        f"docker://{reference}", f"oci:{copy}:17"],
                       check=True, capture_output=True, timeout=600)
        self.assertEqual(json.loads((copy / "index.json").read_text())["manifests"][0]["digest"],
                         digest)
        subprocess.run(["skopeo", "copy", "--all", "--preserve-digests",
                        "--dest-tls-verify=false", f"oci:{copy}:17",
                        f"docker://{registry.host}/team/java17-copy:17"],
                       check=True, capture_output=True, timeout=600)
        self.assertEqual(self.skopeo_digest(f"{registry.host}/team/java17-copy:17",
                                            "--tls-verify=false"), digest)

        # podman pulls the index (it takes this machine's amd64 image) and runs java.
        self.podman("pull", "--tls-verify=false", reference, timeout=600)
        ran = self.podman("run", "--rm", "--network=none", "--pull=never", reference, "-version")
        self.assertIn('openjdk version "17.', ran.stderr)
        arch = self.podman("image", "inspect", "--format", "{{.Architecture}}", reference)
        self.assertEqual(arch.stdout.strip(), "amd64")

    def test_large_blobs_go_in_chunks(self):
        registry = self.plain
        reference = f"{registry.host}/team/chunked:1"
        result = self.push(self.static["layout"], reference, args=("--chunk-size", "64K"))
        pushed = result["references"][0]
        layer = self.static["result"]["archs"][0]["layer"]["size"]
        self.assertEqual(pushed["chunks"], -(-layer // 65536))
        self.assertEqual(registry.requests("PATCH", "/team/chunked/blobs/uploads/"),
                         pushed["chunks"])
        self.assertEqual(self.skopeo_digest(reference, "--tls-verify=false"),
                         self.static["result"]["digest"])

    def test_a_bad_reference_is_a_usage_error_before_anything_is_sent(self):
        result = self.push(self.static["layout"], f"{self.plain.host}/Team/App:1", check=None)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("Team/App", result.stderr)
        self.assertEqual(self.plain.requests("GET", "/v2/Team"), 0)

    # --- basic auth behind TLS -----------------------------------------------------------------

    def test_basic_auth_over_tls_with_a_cert_dir(self):
        directory = self.make_dir("secure")
        certificate, key = directory / "registry.crt", directory / "registry.key"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", certificate],
                       check=True, capture_output=True)
        htpasswd = directory / "htpasswd"
        htpasswd.write_text(subprocess.run(["htpasswd", "-Bbn", "pusher", "s3cret-pass"],
                                           check=True, capture_output=True,
                                           text=True).stdout)
        registry = self.start_registry(Registry(directory, tls=(certificate, key),
                                                htpasswd=htpasswd))
        cert_dir = self.make_dir("certs.d")
        shutil.copy(certificate, cert_dir / "ca.crt")
        authfile = directory / "auth.json"
        authfile.write_text(json.dumps({"auths": {registry.host: {
            "auth": base64.b64encode(b"pusher:s3cret-pass").decode()}}}))
        reference = f"{registry.host}/team/secure:1"

        result = self.push(self.static["layout"], reference,
                           args=("--cert-dir", cert_dir, "--authfile", authfile))
        self.assertIn(f"user `pusher` from {authfile}", result["references"][0]["credentials"])
        self.assertEqual(self.skopeo_digest(reference, "--cert-dir", str(cert_dir), "--creds",
                                            "pusher:s3cret-pass"),
                         self.static["result"]["digest"])

        # Without the CA the certificate does not verify, and nothing is sent.
        result = self.push(self.static["layout"], reference, args=("--authfile", authfile),
                           check=None)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("certificate", result.stderr.lower())
        # Wrong credentials: the message names the user and the file, never the password.
        wrong = directory / "wrong.json"
        wrong.write_text(json.dumps({"auths": {registry.host: {
            "auth": base64.b64encode(b"pusher:not-the-password").decode()}}}))
        result = self.push(self.static["layout"], reference,
                           args=("--cert-dir", cert_dir, "--authfile", wrong), check=None)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("user `pusher`", result.stderr)
        self.assertIn(str(wrong), result.stderr)
        self.assertNotIn("not-the-password", result.stderr + result.stdout)
        # --tls-verify=false takes the registry without its CA.
        result = self.push(self.static["layout"], reference,
                           args=("--tls-verify=false", "--authfile", authfile, "--force"))
        self.assertEqual(result["references"][0]["blobs_present"], 2)


    # --- bearer tokens --------------------------------------------------------------------------

    def test_bearer_tokens_from_the_registrys_token_server(self):
        directory = self.make_dir("token")
        server = TokenServer(directory, "robot", "t0ken-pass").start()
        try:
            registry = self.start_registry(Registry(directory, token=server))
            authfile = directory / "auth.json"
            authfile.write_text(json.dumps({"auths": {registry.host: {
                "auth": base64.b64encode(b"robot:t0ken-pass").decode()}}}))
            reference = f"{registry.host}/team/bearer:1"
            result = self.push(self.static["layout"], reference, args=("--authfile", authfile))
            pushed = result["references"][0]
            self.assertGreaterEqual(pushed["tokens"], 1)
            self.assertEqual(pushed["blobs_uploaded"], 2)
            # Every token request carried the credentials and asked to push to the repository.
            self.assertTrue(server.requests)
            self.assertTrue(all(request["authorized"] for request in server.requests))
            self.assertIn("repository:team/bearer:pull,push", server.requests[0]["scope"])
            self.assertEqual(self.skopeo_digest(reference, "--tls-verify=false", "--creds",
                                                "robot:t0ken-pass"),
                             self.static["result"]["digest"])
            # Without credentials the token server refuses, and the message says so.
            result = self.push(self.static["layout"], reference,
                               args=("--authfile", directory / "none.json"), check=None)
            self.assertNotEqual(result.returncode, 0)
            self.assertIn("no credentials", result.stderr)
        finally:
            server.stop()


    # --- referrers -----------------------------------------------------------------------------

    def layout_with_artifact(self, name):
        """A copy of the static layout with an artifact whose subject is the image (as the
        SBOMs will be); returns the layout and the artifact's descriptor."""
        layout = self.shared / name
        shutil.copytree(self.static["layout"], layout)
        digest = self.static["result"]["digest"]
        index = json.loads((layout / "index.json").read_text())
        image = index["manifests"][0]

        def blob(data):
            hexdigest = hashlib.sha256(data).hexdigest()
            (layout / "blobs" / "sha256" / hexdigest).write_bytes(data)
            return {"digest": f"sha256:{hexdigest}", "size": len(data)}
        document = b'{"spdxVersion": "SPDX-2.3"}'
        empty = blob(b"{}")
        artifact = json.dumps({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": "application/spdx+json",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", **empty},
            "layers": [{"mediaType": "application/spdx+json", **blob(document)}],
            "subject": {"mediaType": image["mediaType"], "digest": digest,
                        "size": image["size"]},
            "annotations": {"org.opencontainers.image.created": "1970-01-01T00:00:00Z"}},
            separators=(",", ":")).encode()
        listed = blob(artifact)
        index["manifests"].append({"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                   "artifactType": "application/spdx+json", **listed})
        (layout / "index.json").write_text(json.dumps(index))
        return layout, listed

    def test_artifacts_about_the_image_go_with_it_through_the_tag_fallback(self):
        """docker-registry 2.8 has no referrers API, so the artifact is listed in the index
        under the tag sha256-<hex of the image's digest> (distribution-spec 1.1's fallback)."""
        layout, listed = self.layout_with_artifact("with-artifact")
        digest = self.static["result"]["digest"]
        reference = f"{self.plain.host}/team/referred:1"
        # The image is there already, without the artifact: the tag names the image, but the
        # push is not skipped, as the artifact is missing.
        self.push(self.static["layout"], reference)
        pushed = self.push(layout, reference)["references"][0]
        self.assertFalse(pushed["unchanged"])
        self.assertEqual((pushed["referrers"], pushed["referrers_api"]), (1, False))
        self.assertEqual(self.skopeo_digest(reference, "--tls-verify=false"), digest)
        fallback = subprocess.run(
            ["skopeo", "inspect", "--raw", "--tls-verify=false",
             f"docker://{self.plain.host}/team/referred:sha256-{digest[7:]}"],
            capture_output=True, check=True, timeout=300).stdout
        entries = json.loads(fallback)["manifests"]
        self.assertEqual([e["digest"] for e in entries], [listed["digest"]])
        self.assertEqual(entries[0]["artifactType"], "application/spdx+json")
        # Pushed again (forced), it is listed once; not forced, nothing is sent.
        self.push(layout, reference, args=("--force",))
        self.assertTrue(self.push(layout, reference)["references"][0]["unchanged"])
        fallback = subprocess.run(
            ["skopeo", "inspect", "--raw", "--tls-verify=false",
             f"docker://{self.plain.host}/team/referred:sha256-{digest[7:]}"],
            capture_output=True, check=True, timeout=300).stdout
        self.assertEqual(len(json.loads(fallback)["manifests"]), 1)

    def test_artifacts_go_through_the_referrers_api_where_the_registry_has_it(self):
        """A registry with the referrers API answers the artifact's PUT with OCI-Subject
        (played here by the proxy in front of docker-registry): then no fallback tag is
        written, and the registry lists the artifact as a referrer of the image."""
        layout, listed = self.layout_with_artifact("with-artifact-api")
        digest = self.static["result"]["digest"]
        with FaultProxy(self.plain.host, referrers=True) as proxy:
            pushed = self.push(layout, f"{proxy.host}/team/referred-api:1")["references"][0]
            with urllib.request.urlopen(
                    f"http://{proxy.host}/v2/team/referred-api/referrers/{digest}",
                    timeout=30) as response:
                referrers = json.loads(response.read())["manifests"]
        self.assertEqual((pushed["referrers"], pushed["referrers_api"]), (1, True))
        self.assertEqual([(r["digest"], r["artifactType"]) for r in referrers],
                         [(listed["digest"], "application/spdx+json")])
        self.assertIsNone(self.tag_digest("team/referred-api", f"sha256-{digest[7:]}"))
        self.assertEqual(self.tag_digest("team/referred-api", listed["digest"]),
                         listed["digest"])
        self.assertEqual(self.tag_digest("team/referred-api", "1"), digest)

    # --- faults, through a proxy of the tests' own ---------------------------------------------

    def tag_digest(self, repository, tag):
        """What the registry itself says the tag names (None when there is no such tag)."""
        request = urllib.request.Request(
            f"http://{self.plain.host}/v2/{repository}/manifests/{tag}", method="HEAD",
            headers={"Accept": "application/vnd.oci.image.manifest.v1+json, "
                               "application/vnd.oci.image.index.v1+json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.headers["Docker-Content-Digest"]
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise

    def test_a_500_then_success_and_a_429_with_retry_after_are_retried(self):
        def fault(method, path, number):
            if method == "PUT" and "/manifests/" in path and number == 1:
                return ("status", 500)
            if method == "HEAD" and "/blobs/" in path and number == 1:
                return ("status", 429, [("Retry-After", "2")])
            return None
        with FaultProxy(self.plain.host, fault) as proxy:
            started = time.monotonic()
            result = self.push(self.static["layout"], f"{proxy.host}/faults/retried:1")
            took = time.monotonic() - started
        self.assertEqual(result["digest"], self.static["result"]["digest"])
        statuses = [status for method, path, status in proxy.log]
        self.assertIn(500, statuses)
        self.assertIn(429, statuses)
        self.assertGreaterEqual(took, 2.0)  # the Retry-After was waited for
        self.assertEqual(self.tag_digest("faults/retried", "1"), self.static["result"]["digest"])

    def test_a_connection_cut_mid_blob_is_resumed_or_restarted(self):
        """Two cuts of the third chunk of the layer: before any of it reaches the registry
        (the upload goes on from the registry's offset, which the status GET gives), and after
        half of it did (docker-registry's session moved on with the half it took, so the old
        upload location is dead: the blob starts over in a new session)."""
        for cut, repository in (("drop", "faults/resumed"), ("cut", "faults/restarted")):
            with self.subTest(cut):
                def fault(method, path, number):
                    if method == "PATCH" and number == 3:
                        return ("cut", 0.0) if cut == "drop" else ("cut", 0.5)
                    return None
                with FaultProxy(self.plain.host, fault) as proxy:
                    result = self.push(self.static["layout"], f"{proxy.host}/{repository}:1",
                                       args=("--chunk-size", "64K"))
                pushed = result["references"][0]
                self.assertEqual((pushed["resumed"], pushed["restarted"]),
                                 (1, 0) if cut == "drop" else (0, 1))
                self.assertEqual(len([s for m, p, s in proxy.log if s == "cut"]), 1)
                # It asked where the upload stood (a GET of the upload location).
                self.assertTrue(any(m == "GET" and "/blobs/uploads/" in p
                                    for m, p, s in proxy.log))
                self.assertEqual(self.tag_digest(repository, "1"),
                                 self.static["result"]["digest"])
                self.assertEqual(self.skopeo_digest(f"{self.plain.host}/{repository}:1",
                                                    "--tls-verify=false"),
                                 self.static["result"]["digest"])

    def test_a_bearer_challenge_and_a_token_that_expires_mid_push(self):
        proxy = FaultProxy(self.plain.host, bearer=True)

        def fault(method, path, number):
            if method == "PUT" and "/blobs/uploads/" in path and number == 1:
                proxy.expire()  # the token runs out between the two blobs
            return None
        proxy.fault = fault
        with proxy:
            result = self.push(self.static["layout"], f"{proxy.host}/team/app:1")
        pushed = result["references"][0]
        self.assertGreaterEqual(pushed["tokens"], 2)
        self.assertEqual(len([t for t in proxy.tokens if t]), pushed["tokens"])
        self.assertEqual(self.tag_digest("team/app", "1"), self.static["result"]["digest"])

    def test_a_push_that_fails_or_is_interrupted_leaves_no_tag(self):
        # The layer never gets in: every upload of it fails.
        def fault(method, path, number):
            return ("status", 500) if method == "PUT" and "/blobs/uploads/" in path else None
        with FaultProxy(self.plain.host, fault) as proxy:
            result = self.push(self.static["layout"], f"{proxy.host}/faults/broken:1", check=None)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("500", result.stderr)
        self.assertIsNone(self.tag_digest("faults/broken", "1"))
        # Ctrl-C while the layer goes up (the proxy holds it): no tag either.
        def slow(method, path, number):
            if method == "PATCH":
                time.sleep(1)
            return None
        with FaultProxy(self.plain.host, slow) as proxy:
            process = subprocess.Popen(
                [dt.binary(), "--cache-dir", self.cache, "push", "--chunk-size", "64K",
                 self.static["layout"], f"{proxy.host}/faults/interrupted:1"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            deadline = time.monotonic() + 60
            while not any(m == "PATCH" for m, p, s in proxy.log):
                self.assertLess(time.monotonic(), deadline, "no chunk arrived")
                time.sleep(0.05)
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=30)
        self.assertNotEqual(process.returncode, 0)
        self.assertIn("interrupted", stderr)
        self.assertIsNone(self.tag_digest("faults/interrupted", "1"))


if __name__ == "__main__":
    dt.main()
