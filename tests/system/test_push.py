"""System: `distill push` and `distill build --push` against a real registry: Debian's
docker-registry (CNCF distribution 2.8), started by the test on 127.0.0.1 with a config file in
a scratch directory, once plain and once with htpasswd basic auth behind TLS with a throwaway
self-signed certificate. The images are built from the real mirror. Independent readers check
what landed: skopeo (inspect --raw, copy --preserve-digests) and podman (pull and run); the
registry's own access log counts the requests distill made.
"""

import base64
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
import distill_test as dt  # noqa: E402

MANIFESTS = dt.source_dir() / "manifests"
PROGRAMS = dt.source_dir() / "tests" / "data" / "programs"
HELLO = "hello from uid 65532 (nonroot)\n"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Registry:
    """docker-registry serving from `directory`, stopped by its PID. With `tls` (cert, key) it
    speaks https; with `htpasswd` it asks for basic credentials."""

    def __init__(self, directory, tls=None, htpasswd=None, token=None):
        self.directory = directory
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.tls = tls
        self.log_path = directory / "registry.log"
        lines = ["version: 0.1", "log:", "  level: info", "  formatter: json",
                 "storage:", "  filesystem:", f"    rootdirectory: {directory / 'data'}",
                 "  delete:", "    enabled: true",
                 "http:", f"  addr: {self.host}"]
        if tls:
            lines += ["  tls:", f"    certificate: {tls[0]}", f"    key: {tls[1]}"]
        if htpasswd:
            lines += ["auth:", "  htpasswd:", "    realm: distill-test", f"    path: {htpasswd}"]
        if token:
            lines += ["auth:", "  token:", f"    realm: {token.realm}",
                      "    service: distill-test", "    issuer: distill-test-issuer",
                      f"    rootcertbundle: {token.certificate}"]
        (directory / "config.yml").write_text("\n".join(lines) + "\n")
        self.process = None

    def start(self):
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(["docker-registry", "serve",
                                             self.directory / "config.yml"],
                                            stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        context = ssl.create_default_context(cafile=str(self.tls[0])) if self.tls else None
        url = f"{'https' if self.tls else 'http'}://{self.host}/v2/"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"docker-registry exited:\n{self.log_path.read_text()}")
            try:
                urllib.request.urlopen(url, timeout=5, context=context)
                return self
            except urllib.error.HTTPError:
                return self  # 401: up, and asking for credentials
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"docker-registry did not answer:\n{self.log_path.read_text()}")

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def requests(self, method, contains=""):
        """The requests the registry completed with `method` whose URI contains `contains`."""
        count = 0
        for line in self.log_path.read_text().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if (entry.get("msg") == "response completed" and
                    entry.get("http.request.method") == method and
                    contains in entry.get("http.request.uri", "")):
                count += 1
        return count


class LoopbackServer:
    """An HTTP server of the tests' own on 127.0.0.1, in a thread; `start()` of a subclass
    makes its handler and calls serve()."""

    server = None

    def serve(self, handler):
        import http.server
        import threading
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class TokenServer(LoopbackServer):
    """The token endpoint of the distribution spec's bearer flow, the tests' own: it checks
    basic credentials and answers with a JWT (ES256, its certificate in `x5c`) granting the
    scopes asked for, which docker-registry verifies against `certificate`."""

    def __init__(self, directory, user, password):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
        import datetime
        self.user, self.password = user, password
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "distill test token issuer")])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - datetime.timedelta(days=1))
                     .not_valid_after(now + datetime.timedelta(days=2))
                     .sign(self.key, hashes.SHA256()))
        self.certificate = directory / "token-issuer.pem"
        self.certificate.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        self.der = self.cert.public_bytes(serialization.Encoding.DER)
        self.requests = []
        self.port = free_port()
        self.realm = f"http://127.0.0.1:{self.port}/token"
        self.server = None

    @staticmethod
    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    def token(self, service, scopes):
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {"alg": "ES256", "typ": "JWT", "x5c": [base64.b64encode(self.der).decode()]}
        claims = {"iss": "distill-test-issuer", "sub": self.user, "aud": service,
                  "exp": now + 300, "nbf": now - 10, "iat": now, "jti": os.urandom(8).hex(),
                  "access": access}
        signing_input = (self.b64(json.dumps(header).encode()) + "." +
                         self.b64(json.dumps(claims).encode()))
        r, s = decode_dss_signature(self.key.sign(signing_input.encode(),
                                                  ec.ECDSA(hashes.SHA256())))
        return signing_input + "." + self.b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))

    def start(self):
        import http.server
        import threading
        import urllib.parse
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                url = urllib.parse.urlparse(self.path)
                query = urllib.parse.parse_qs(url.query)
                expected = "Basic " + base64.b64encode(
                    f"{outer.user}:{outer.password}".encode()).decode()
                outer.requests.append({"scope": query.get("scope", []),
                                       "authorized": self.headers.get("Authorization") ==
                                       expected})
                if url.path != "/token" or self.headers.get("Authorization") != expected:
                    self.send_response(401)
                    self.end_headers()
                    return
                token = outer.token(query.get("service", [""])[0], query.get("scope", []))
                body = json.dumps({"token": token, "access_token": token,
                                   "expires_in": 300}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return self.serve(Handler)


class FaultProxy(LoopbackServer):
    """A loopback proxy of the tests' own in front of a registry, which breaks requests as
    `fault(method, path, number)` says: None forwards the request; ("status", code, headers)
    answers with that status instead; ("cut", fraction) forwards that fraction of the body
    (a PATCH chunk, with its Content-Range cut to match) and then drops the connection without
    an answer. With `bearer`, it asks for a bearer token from its own /token endpoint and takes
    only the current one; expire() makes it refuse that one from then on."""

    def __init__(self, upstream, fault=None, bearer=False):
        self.upstream = upstream
        self.fault = fault or (lambda method, path, number: None)
        self.bearer = bearer
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.log = []  # (method, path, status)
        self.tokens = []
        self.counts = {}
        self.server = None

    def expire(self):
        self.tokens.append(None)  # the current token no longer works

    def start(self):
        import http.client
        import http.server
        import threading
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def answer(self, status, headers=(), body=b""):
                outer.log.append((self.command, self.path, status))
                try:
                    self.send_response(status)
                    for name, value in headers:
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client went away (interrupted)

            def handle_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.bearer_refused():
                    return
                key = (self.command, self.path.split("?")[0].rsplit("/", 1)[0])
                outer.counts[key] = outer.counts.get(key, 0) + 1
                fault = outer.fault(self.command, self.path, outer.counts[key])
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("authorization", "content-length", "connection")}
                if fault and fault[0] == "status":
                    self.answer(fault[1], fault[2] if len(fault) > 2 else ())
                    return
                if fault and fault[0] == "cut":
                    part = int(len(body) * fault[1])
                    if part == 0:  # nothing of it reaches the registry
                        outer.log.append((self.command, self.path, "cut"))
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    start = int(self.headers["Content-Range"].split("-")[0])
                    headers["Content-Range"] = f"{start}-{start + part - 1}"
                    body = body[:part]
                connection = http.client.HTTPConnection(outer.upstream, timeout=60)
                connection.request(self.command, self.path, body=body,
                                   headers={**headers, "Content-Length": str(len(body))})
                response = connection.getresponse()
                data = response.read()
                connection.close()
                if fault and fault[0] == "cut":
                    outer.log.append((self.command, self.path, "cut"))
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.answer(response.status,
                            [(k, v) for k, v in response.getheaders()
                             if k.lower() not in ("content-length", "connection",
                                                  "transfer-encoding")],
                            b"" if self.command == "HEAD" else data)

            def bearer_refused(self):
                if not outer.bearer:
                    return False
                if self.path.startswith("/token"):
                    token = os.urandom(8).hex()
                    outer.tokens.append(token)
                    self.answer(200, [("Content-Type", "application/json")],
                                json.dumps({"token": token}).encode())
                    return True
                current = outer.tokens[-1] if outer.tokens else None
                if current and self.headers.get("Authorization") == f"Bearer {current}":
                    return False
                challenge = (f'Bearer realm="http://{outer.host}/token",service="proxy",'
                             f'scope="repository:team/app:pull,push"')
                self.answer(401, [("WWW-Authenticate", challenge)])
                return True

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = handle_any

        return self.serve(Handler)


class Push(dt.TestCase):
    @classmethod
    def setUpClass(cls):
        dt.require_programs("docker-registry", "htpasswd", "openssl", "skopeo", "podman", "runc",
                            "gcc")
        if os.geteuid() != 0:
            dt.skip_or_fail("needs root to run podman with its own storage")
        cls.shared = Path(tempfile.mkdtemp(prefix="distill-push-", dir="/tmp"))
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
        result = dt.run(["--cache-dir", cls.cache, "build", "--json", "-o", layout, manifest],
                        check=0)
        return {"manifest": manifest, "layout": layout, "result": json.loads(result.stdout)}

    def push(self, layout, *references, args=(), check=0, env=None):
        # The class's cache: its mount hints outlive one push.
        result = dt.run(["--cache-dir", self.cache, "push", "--json", *args, layout,
                         *references], check=check, env=env)
        return json.loads(result.stdout) if check == 0 else result

    def skopeo_digest(self, reference, *args):
        raw = subprocess.run(["skopeo", "inspect", "--raw", *args, f"docker://{reference}"],
                             capture_output=True, check=True, timeout=300).stdout
        return "sha256:" + __import__("hashlib").sha256(raw).hexdigest()

    def podman(self, *args, check=True):
        return dt.podman_private(self.shared / "podman", self.conf, *args, check=check)

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

        # Again: nothing uploaded (HEAD finds both blobs), and the registry saw no upload.
        again = self.push(self.static["layout"], f"{registry.host}/team/static:1")
        self.assertEqual((again["references"][0]["blobs_uploaded"],
                          again["references"][0]["blobs_present"]), (0, 2))
        self.assertEqual(registry.requests("POST", "/team/static/blobs/uploads/"), uploads)

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
                           args=("--tls-verify=false", "--authfile", authfile))
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

    def test_artifacts_about_the_image_go_with_it_through_the_tag_fallback(self):
        """An artifact whose subject is the image (as the SBOMs will be), added to a copy of the
        layout: docker-registry 2.8 has no referrers API, so it is listed in the index under
        the tag sha256-<hex of the image's digest> (distribution-spec 1.1's fallback)."""
        layout = self.shared / "with-artifact"
        shutil.copytree(self.static["layout"], layout)
        digest = self.static["result"]["digest"]
        index = json.loads((layout / "index.json").read_text())
        image = index["manifests"][0]

        def blob(data):
            hexdigest = __import__("hashlib").sha256(data).hexdigest()
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

        reference = f"{self.plain.host}/team/referred:1"
        pushed = self.push(layout, reference)["references"][0]
        self.assertEqual((pushed["referrers"], pushed["referrers_api"]), (1, False))
        self.assertEqual(self.skopeo_digest(reference, "--tls-verify=false"), digest)
        fallback = subprocess.run(
            ["skopeo", "inspect", "--raw", "--tls-verify=false",
             f"docker://{self.plain.host}/team/referred:sha256-{digest[7:]}"],
            capture_output=True, check=True, timeout=300).stdout
        entries = json.loads(fallback)["manifests"]
        self.assertEqual([e["digest"] for e in entries], [listed["digest"]])
        self.assertEqual(entries[0]["artifactType"], "application/spdx+json")
        # Pushed again, it is listed once.
        self.push(layout, reference)
        fallback = subprocess.run(
            ["skopeo", "inspect", "--raw", "--tls-verify=false",
             f"docker://{self.plain.host}/team/referred:sha256-{digest[7:]}"],
            capture_output=True, check=True, timeout=300).stdout
        self.assertEqual(len(json.loads(fallback)["manifests"]), 1)

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
