"""The registry side of the push tests, shared by tests/system, tests/integration and
tests/bench: Debian's docker-registry (CNCF distribution 2.8) started on 127.0.0.1 with a config
file in a scratch directory, and two loopback servers of the tests' own: a token server for the
bearer flow and a proxy that breaks requests on purpose (and can play a registry that has the
referrers API)."""

import base64
import hashlib
import http.client
import http.server
import json
import os
import signal
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request


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
    only the current one; expire() makes it refuse that one from then on. With `referrers`, it
    plays a registry that has distribution-spec 1.1's referrers API: a manifest PUT whose body
    has a `subject` is answered with the OCI-Subject header, and GET /v2/NAME/referrers/DIGEST
    lists what was put for DIGEST (docker-registry 2.8 has no such API of its own)."""

    def __init__(self, upstream, fault=None, bearer=False, referrers=False):
        self.upstream = upstream
        self.fault = fault or (lambda method, path, number: None)
        self.bearer = bearer
        self.referrers = {} if referrers else None  # subject digest -> [descriptor]
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.log = []  # (method, path, status)
        self.tokens = []
        self.counts = {}
        self.server = None

    def expire(self):
        self.tokens.append(None)  # the current token no longer works

    def start(self):
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
                if self.bearer_refused() or self.referrers_listed():
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
                answer = [(k, v) for k, v in response.getheaders()
                          if k.lower() not in ("content-length", "connection",
                                               "transfer-encoding")]
                subject = self.subject_of(body) if response.status == 201 else None
                if subject:
                    answer.append(("OCI-Subject", subject))
                self.answer(response.status, answer, b"" if self.command == "HEAD" else data)

            def subject_of(self, body):
                """Records a manifest PUT with a subject, as a registry with the referrers API
                does; returns the subject's digest (None when there is nothing to record)."""
                if outer.referrers is None or self.command != "PUT" or \
                        "/manifests/" not in self.path:
                    return None
                try:
                    document = json.loads(body)
                    subject = document["subject"]["digest"]
                except (ValueError, KeyError, TypeError):
                    return None
                entry = {"mediaType": document.get("mediaType"),
                         "digest": "sha256:" + hashlib.sha256(body).hexdigest(),
                         "size": len(body)}
                if document.get("artifactType"):
                    entry["artifactType"] = document["artifactType"]
                listed = outer.referrers.setdefault(subject, [])
                if entry not in listed:
                    listed.append(entry)
                return subject

            def referrers_listed(self):
                if outer.referrers is None or self.command != "GET" or \
                        "/referrers/" not in self.path:
                    return False
                subject = self.path.split("?")[0].rsplit("/", 1)[1]
                index = {"schemaVersion": 2,
                         "mediaType": "application/vnd.oci.image.index.v1+json",
                         "manifests": outer.referrers.get(subject, [])}
                self.answer(200, [("Content-Type", "application/vnd.oci.image.index.v1+json")],
                            json.dumps(index).encode())
                return True

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
