"""System: TLS clients in the stock images trust the CA certificates the image holds, and only
those.

A throwaway CA made at test time goes into each image through the manifest's `certificates`.
Two HTTPS servers run on 127.0.0.1 in this process (Python's ssl module): one presents a
certificate from that CA, the other one from a CA no image knows. Inside each image (podman,
--network=host, so 127.0.0.1 is this machine's), every TLS stack with its default trust
settings verifies the first server and refuses the second: OpenSSL (a C program on libssl3, in
base, cc and java17; the same program linked statically, in static; Python's ssl and urllib, in
python3), GnuTLS (in base with libgnutls30) and the JVM's default truststore (in java17).
The images are built from the real mirror, each once for the class."""

import functools
import http.server
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
import distill_test as dt  # noqa: E402

MANIFESTS = dt.source_dir() / "manifests"
PROGRAMS = dt.source_dir() / "tests" / "data" / "programs"
HASH_LINK = re.compile(r"^etc/ssl/certs/[0-9a-f]{8}\.[0-9]+$")
BODY = b"hello over TLS\n"

# Python in the python3 image: where OpenSSL's defaults point, how many CA certificates the
# default context holds, and what urllib (the default HTTPS context) makes of the server.
PYTHON_CHECK = """
import json, os, ssl, sys, urllib.error, urllib.request
paths = ssl.get_default_verify_paths()
out = {"openssl_cafile": paths.openssl_cafile, "openssl_capath": paths.openssl_capath,
       "cafile": paths.cafile, "capath": paths.capath,
       "stats": ssl.create_default_context().cert_store_stats()}
try:
    with urllib.request.urlopen("https://127.0.0.1:" + sys.argv[1] + "/", timeout=20) as reply:
        out["reply"] = reply.read().decode().strip()
except urllib.error.URLError as error:
    out["refused"] = str(error.reason)
print(json.dumps(out))
"""


def openssl(*args, cwd=None):
    return subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True,
                          text=True, cwd=cwd).stdout


class Pki:
    """Throwaway CAs and server certificates (EC P-256, valid for two days), made with the
    openssl command line tool."""

    def __init__(self, directory):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)

    def ca(self, name):
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", self.dir / f"{name}.key", "-out", self.dir / f"{name}.pem",
                "-days", "2", "-subj", f"/O=distill tests/CN=distill test {name}")
        return self.dir / f"{name}.pem"

    def server(self, name, ca):
        """A certificate for the IP address 127.0.0.1 signed by `ca`: (certificate, key)."""
        key, csr = self.dir / f"{name}.key", self.dir / f"{name}.csr"
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1")
        extensions = self.dir / f"{name}.ext"
        extensions.write_text("subjectAltName = IP:127.0.0.1\n"
                              "basicConstraints = critical, CA:FALSE\n"
                              "extendedKeyUsage = serverAuth\n")
        openssl("x509", "-req", "-in", csr, "-CA", self.dir / f"{ca}.pem",
                "-CAkey", self.dir / f"{ca}.key", "-CAcreateserial", "-days", "2",
                "-extfile", extensions, "-out", self.dir / f"{name}.pem")
        return self.dir / f"{name}.pem", key


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, fmt, *args):
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a client that refuses the certificate aborts the handshake: expected here


class TlsServer:
    """HTTPS on 127.0.0.1 (an ephemeral port) with the given certificate."""

    def __init__(self, certificate, key):
        self.httpd = _QuietServer(("127.0.0.1", 0), _Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate, key)
        # The handshake runs in the request's thread, so a client that stalls holds no one up.
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True,
                                                do_handshake_on_connect=False)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self):
        return str(self.httpd.server_address[1])

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Tls(dt.TestCase):
    shared = None  # class-wide scratch: the cache, the CAs, the programs and the images

    @classmethod
    def setUpClass(cls):
        dt.require_programs("podman", "runc", "openssl", "gcc", "javac")
        headers = [Path("/usr/include/openssl/ssl.h"), Path("/usr/include/gnutls/gnutls.h")]
        if not all(header.exists() for header in headers):
            dt.skip_or_fail("needs libssl-dev and libgnutls28-dev (installed by .ci/test)")
        cls.shared = dt.scratch_dir("distill-tls-")
        cls.conf = cls.shared / "containers.conf"
        cls.conf.write_text(dt.CONTAINERS_CONF)
        cls.images = {}
        cls.servers = []
        pki = Pki(cls.shared / "pki")
        cls.trusted_ca = pki.ca("trusted-ca")
        pki.ca("stranger-ca")
        cls.trusted = TlsServer(*pki.server("trusted-server", "trusted-ca"))
        cls.servers.append(cls.trusted)
        cls.stranger = TlsServer(*pki.server("stranger-server", "stranger-ca"))
        cls.servers.append(cls.stranger)
        cls.compile_programs()

    @classmethod
    def tearDownClass(cls):
        for server in cls.servers:
            server.close()
        # `podman run oci:DIR` keeps a copy of the image, named after DIR.
        if cls.images:
            subprocess.run(["podman", "rmi", "--force", "--ignore",
                            *(f"localhost{layout}:latest" for layout in cls.images.values())],
                           capture_output=True, timeout=300,
                           env={**os.environ, "CONTAINERS_CONF": str(cls.conf)})
        shutil.rmtree(cls.shared, ignore_errors=True)

    @classmethod
    def compile_programs(cls):
        programs = cls.shared / "programs"
        programs.mkdir()
        build = functools.partial(subprocess.run, check=True, capture_output=True)
        build(["gcc", "-O2", "-o", programs / "tls-openssl", PROGRAMS / "tls_openssl.c",
               "-lssl", "-lcrypto"])
        # Debian's libcrypto.a has the same built-in directory as libssl3 (/usr/lib/ssl); the
        # program never resolves a name, which a static glibc could not do in the image.
        build(["gcc", "-O2", "-static", "-o", programs / "tls-openssl-static",
               PROGRAMS / "tls_openssl.c", "-lssl", "-lcrypto", "-lpthread"])
        build(["gcc", "-O2", "-o", programs / "tls-gnutls", PROGRAMS / "tls_gnutls.c",
               "-lgnutls"])
        build(["javac", "--release", "17", "-d", programs, PROGRAMS / "TlsCheck.java",
               PROGRAMS / "Check.java"])

    @classmethod
    def image(cls, name, stock, files=(), packages=()):
        """Builds (once) an image that includes the stock manifest, adds `packages` and the
        programs `files` ((name, destination) pairs), and trusts the throwaway CA."""
        if name in cls.images:
            return cls.images[name]
        text = f"include: {MANIFESTS / stock}\nname: test-tls-{name}\n"
        if packages:
            text += f"packages: [{', '.join(packages)}]\n"
        if files:
            text += "files:\n" + "".join(
                f"  - src: {cls.shared / 'programs' / src}\n    dst: {dst}\n    mode: \"0755\"\n"
                for src, dst in files)
        text += f"certificates: [{cls.trusted_ca}]\n"
        manifest = cls.shared / f"test-tls-{name}.yaml"
        manifest.write_text(text)
        out = cls.shared / "out" / name
        dt.run(["--cache-dir", cls.shared / "cache", "-q", "build", "-o", out, manifest], check=0)
        cls.images[name] = out
        return out

    def podman(self, layout, *args, entrypoint=None, env=()):
        command = ["podman", "run", "--rm", "--network=host", "--pull=never"]
        if entrypoint is not None:
            command += ["--entrypoint", entrypoint]
        for variable in env:
            command += ["-e", variable]
        command += [f"oci:{layout}:latest", *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=300,
                              env={**os.environ, "CONTAINERS_CONF": str(self.conf)})

    def members(self, layout):
        members, _ = dt.layer_members(dt.image_files(layout)[2])
        return {member.name.rstrip("/"): (member, data) for member, data in members}

    def assert_verified(self, result, what):
        self.assertEqual(result.returncode, 0, f"{what}:\n{result.stdout}{result.stderr[-3000:]}")
        self.assertIn("verified", result.stdout, what)
        self.assertIn("reply: HTTP/1.0 200 OK", result.stdout, what)

    def assert_refused(self, result, what):
        self.assertEqual(result.returncode, 1, f"{what}:\n{result.stdout}{result.stderr[-3000:]}")
        self.assertIn("refused:", result.stdout, what)
        self.assertNotIn("reply:", result.stdout, what)

    def check_openssl_program(self, layout, program):
        """The OpenSSL program trusts the throwaway CA through OpenSSL's built-in defaults, through
        the hashed directory alone and through the bundle alone, and refuses the stranger."""
        run = functools.partial(self.podman, layout, entrypoint=program)
        result = run(self.trusted.port)
        self.assert_verified(result, f"{program} in {layout.name}")
        self.assertIn("defaults: /usr/lib/ssl/cert.pem /usr/lib/ssl/certs", result.stdout)
        self.assertIn("verified: /CN=127.0.0.1", result.stdout)
        # Only the directory: the CA is found by its subject hash, through the links.
        self.assert_verified(run(self.trusted.port, env=["SSL_CERT_FILE=/nonexistent"]),
                             f"{program} in {layout.name}, directory only")
        # Only the bundle.
        self.assert_verified(run(self.trusted.port, env=["SSL_CERT_DIR=/nonexistent"]),
                             f"{program} in {layout.name}, bundle only")
        refused = run(self.stranger.port)
        self.assert_refused(refused, f"{program} in {layout.name}, stranger")
        self.assertIn("unable to get local issuer certificate", refused.stdout)

    # --- OpenSSL ------------------------------------------------------------------------------

    def test_base_openssl(self):
        layout = self.image("base", "base.yaml", [("tls-openssl", "/usr/local/bin/tls-openssl")])
        self.check_openssl_program(layout, "/usr/local/bin/tls-openssl")

    def test_base_links_are_those_update_ca_certificates_and_rehash_make(self):
        """The image's /etc/ssl/certs, rebuilt from its own certificates with the openssl tool,
        has the same hash links; the extra CA is a local certificate with its own links."""
        layout = self.image("base", "base.yaml", [("tls-openssl", "/usr/local/bin/tls-openssl")])
        members = self.members(layout)
        self.assertEqual(members["usr/lib/ssl/certs"][0].linkname, "/etc/ssl/certs")
        self.assertEqual(members["usr/lib/ssl/cert.pem"][0].linkname,
                         "/etc/ssl/certs/ca-certificates.crt")
        self.assertEqual(members["usr/local/share/ca-certificates/trusted-ca.crt"][1].decode(),
                         self.trusted_ca.read_text())
        self.assertEqual(members["etc/ssl/certs/trusted-ca.pem"][0].linkname,
                         "/usr/local/share/ca-certificates/trusted-ca.crt")
        subject_hash = openssl("x509", "-noout", "-subject_hash", "-in", self.trusted_ca).strip()
        self.assertEqual(members[f"etc/ssl/certs/{subject_hash}.0"][0].linkname, "trusted-ca.pem")

        hash_links = {name.rsplit("/", 1)[1]: member.linkname
                      for name, (member, _) in members.items() if HASH_LINK.match(name)}
        name_links = {name.rsplit("/", 1)[1]: member.linkname
                      for name, (member, _) in members.items()
                      if name.startswith("etc/ssl/certs/") and name.endswith(".pem")}
        bundle = members["etc/ssl/certs/ca-certificates.crt"][1].decode()
        in_bundle = bundle.count("-----BEGIN CERTIFICATE-----")
        # Rebuild the directory outside the image: the certificate files where the image has
        # them (under a scratch root), the name links into them, then `openssl rehash`.
        root, directory = self.scratch / "root", self.scratch / "certs"
        directory.mkdir()
        for name, target in name_links.items():
            member, data = members[target.lstrip("/")]
            self.assertTrue(member.isreg(), target)
            (root / target.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
            (root / target.lstrip("/")).write_bytes(data)
            (directory / name).symlink_to(root / target.lstrip("/"))
        openssl("rehash", directory)
        rehashed = {path.name: os.readlink(path) for path in directory.iterdir()
                    if not path.name.endswith(".pem")}
        self.assertEqual(hash_links, rehashed)
        self.assertEqual(len(name_links), in_bundle)  # one certificate a file, none twice
        self.assertEqual(len(hash_links), in_bundle)
        numbered = sorted(name for name in hash_links if not name.endswith(".0"))
        print(f"base: {in_bundle} certificates in the bundle, {len(name_links)} name links, "
              f"{len(hash_links)} hash links, numbered beyond .0: {', '.join(numbered) or 'none'}")

    def test_cc_openssl(self):
        layout = self.image("cc", "cc.yaml", [("tls-openssl", "/usr/local/bin/tls-openssl")])
        self.check_openssl_program(layout, "/usr/local/bin/tls-openssl")

    def test_static_openssl_linked_statically(self):
        layout = self.image("static", "static.yaml",
                            [("tls-openssl-static", "/usr/local/bin/tls-openssl")])
        self.assertNotIn("usr/lib/x86_64-linux-gnu/libssl.so.3", self.members(layout))
        self.check_openssl_program(layout, "/usr/local/bin/tls-openssl")

    def test_python3(self):
        layout = self.image("python3", "python3.yaml")
        bundle = self.members(layout)["etc/ssl/certs/ca-certificates.crt"][1].decode()
        in_bundle = bundle.count("-----BEGIN CERTIFICATE-----")

        def check(port, *env):
            result = self.podman(layout, "-c", PYTHON_CHECK, port, env=env)
            self.assertEqual(result.returncode, 0, result.stderr[-3000:])
            return json.loads(result.stdout)

        trusted = check(self.trusted.port)
        self.assertEqual(trusted["openssl_cafile"], "/usr/lib/ssl/cert.pem")
        self.assertEqual(trusted["openssl_capath"], "/usr/lib/ssl/certs")
        # Python names the defaults (Debian's Python by where their links lead) only when they
        # exist.
        self.assertIsNotNone(trusted["cafile"])
        self.assertIsNotNone(trusted["capath"])
        self.assertEqual(trusted["stats"]["x509_ca"], in_bundle)
        self.assertGreater(in_bundle, 100)
        self.assertEqual(trusted["reply"], BODY.decode().strip())
        # Only the directory (looked up by hash, so the context counts none in advance).
        directory_only = check(self.trusted.port, "SSL_CERT_FILE=/nonexistent")
        self.assertEqual(directory_only["stats"]["x509_ca"], 0)
        self.assertEqual(directory_only.get("reply"), BODY.decode().strip(), directory_only)
        stranger = check(self.stranger.port)
        self.assertNotIn("reply", stranger)
        self.assertIn("CERTIFICATE_VERIFY_FAILED", stranger["refused"])
        print(f"python3: default context holds {trusted['stats']['x509_ca']} CA certificates")

    # --- Java ---------------------------------------------------------------------------------

    def test_java17(self):
        layout = self.image("java17", "java17.yaml",
                            [("TlsCheck.class", "/app/TlsCheck.class"),
                             ("Check.class", "/app/Check.class"),
                             ("tls-openssl", "/usr/local/bin/tls-openssl")])
        bundle = self.members(layout)["etc/ssl/certs/ca-certificates.crt"][1].decode()
        check = self.podman(layout, "-cp", "/app", "Check")
        self.assertEqual(check.returncode, 0, check.stderr[-3000:])
        trusted = int(re.search(r"trusted=(\d+)", check.stdout).group(1))
        self.assertEqual(trusted, bundle.count("-----BEGIN CERTIFICATE-----"))
        self.assert_verified(self.podman(layout, "-cp", "/app", "TlsCheck", self.trusted.port),
                             "TlsCheck in java17")
        refused = self.podman(layout, "-cp", "/app", "TlsCheck", self.stranger.port)
        self.assert_refused(refused, "TlsCheck in java17, stranger")
        self.assertIn("PKIX path building failed", refused.stdout)
        # Programs on the image's OpenSSL find the same CAs.
        self.check_openssl_program(layout, "/usr/local/bin/tls-openssl")
        print(f"java17: the default truststore holds {trusted} certificates")

    # --- GnuTLS -------------------------------------------------------------------------------

    def test_gnutls(self):
        layout = self.image("gnutls", "base.yaml", [("tls-gnutls", "/usr/local/bin/tls-gnutls")],
                            packages=["libgnutls30"])
        bundle = self.members(layout)["etc/ssl/certs/ca-certificates.crt"][1].decode()
        run = functools.partial(self.podman, layout, entrypoint="/usr/local/bin/tls-gnutls")
        result = run(self.trusted.port)
        self.assert_verified(result, "tls-gnutls")
        self.assertIn(f"system trust: {bundle.count('-----BEGIN CERTIFICATE-----')} certificates",
                      result.stdout)
        refused = run(self.stranger.port)
        self.assert_refused(refused, "tls-gnutls, stranger")
        self.assertIn("issuer is unknown", refused.stdout)


if __name__ == "__main__":
    dt.main()
