"""System: the examples, end to end: the Java service built into the java17 image and answering
over HTTP, and the command-injection demo against the distill image and full Debian."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
import distill_test as dt  # noqa: E402

EXAMPLES = dt.source_dir() / "examples"
COMMANDS = ["sh -c id", "ls /", "cat /etc/passwd", "wget --version", "curl --version",
            "apt-get --version", "perl -e print(42)", "python3 -c print(42)"]
# What Debian's minbase with the JRE has, at least.
IN_DEBIAN = ["sh -c id", "ls /", "cat /etc/passwd", "apt-get --version", "perl -e print(42)"]
BLOCKED = "blocked (no such program)"
UPLOADS = ["upload /tmp/sh, run it", "upload /var/tmp/sh, run it"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def table(output):
    """The rows of demo.sh's table: command -> (distill cell, distill + profile cell, Debian
    cell)."""
    rows = {}
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        if len(cells) == 4 and cells[0] != "attacker runs":
            rows[cells[0]] = (cells[1], cells[2], cells[3])
    return rows


class Examples(dt.TestCase):
    def setUp(self):
        super().setUp()
        self.env = {**os.environ, "DISTILL": dt.binary(), "XDG_CACHE_HOME": str(self.cache)}
        self.conf = self.scratch / "containers.conf"
        self.conf.write_text(dt.CONTAINERS_CONF)

    def script(self, path, timeout):
        return subprocess.run(["bash", path], env=self.env, capture_output=True, text=True,
                              timeout=timeout)

    def podman(self, *args, check=True):
        result = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=300,
                                env={**os.environ, "CONTAINERS_CONF": str(self.conf)})
        if check and result.returncode != 0:
            self.fail(f"podman {' '.join(args)} exited {result.returncode}:\n"
                      f"{result.stderr[-3000:]}")
        return result

    def test_java_service(self):
        built = self.script(EXAMPLES / "java-service" / "build.sh", timeout=900)
        self.assertEqual(built.returncode, 0, built.stderr[-3000:])
        layout = EXAMPLES / "java-service" / "out" / "image"
        _, config, _ = dt.image_files(layout)
        self.assertEqual(config["config"]["Cmd"], ["-jar", "/app/app.jar"])
        self.assertIn("8080/tcp", config["config"]["ExposedPorts"])

        port = free_port()
        name = f"distill-test-service-{os.getpid()}"
        # Under its runtime profile, as `distill inspect --run` prints it.
        self.podman("run", "--detach", "--network=host", "--name", name, "-e", f"PORT={port}",
                    *dt.hardened(layout), f"oci:{layout}:latest")
        try:
            answer = None
            for _ in range(120):  # the JVM takes a moment to start
                try:
                    answer = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read()
                    break
                except OSError:
                    time.sleep(0.5)
            self.assertIsNotNone(answer, "the service never answered; its log:\n" +
                                 self.podman("logs", name, check=False).stderr[-3000:])
            self.assertTrue(answer.endswith(b"\n") and answer.count(b"\n") == 1, answer)
            reply = json.loads(answer)
            self.assertEqual(reply["service"], "java-service")
            self.assertRegex(reply["java"], r"^17\.")
            self.assertEqual(reply["uid"], 65532)
        finally:
            self.podman("rm", "--force", "--ignore", "--time", "1", name, check=False)

    def test_command_injection_demo(self):
        result = self.script(EXAMPLES / "command-injection" / "demo.sh", timeout=1200)
        print(result.stdout[result.stdout.find("attacker runs"):])
        self.assertEqual(result.returncode, 0, result.stdout[-3000:] + result.stderr[-3000:])

        rows = table(result.stdout)
        self.assertEqual(list(rows), COMMANDS + UPLOADS, result.stdout)
        for command in COMMANDS:
            distroless, profiled, debian = rows[command]
            self.assertEqual((distroless, profiled), (BLOCKED, BLOCKED), command)
            self.assertIn(debian, ("runs", BLOCKED), command)
        for command in IN_DEBIAN:
            self.assertEqual(rows[command][2], "runs", command)
        # A shell the attacker brings runs in the distill image, and in Debian; the profile
        # stops it: /tmp is a noexec tmpfs, the rest of the root is read-only.
        self.assertEqual(rows["upload /tmp/sh, run it"], ("runs", "blocked (noexec /tmp)", "runs"))
        self.assertEqual(rows["upload /var/tmp/sh, run it"],
                         ("runs", "blocked (read-only root)", "runs"))
        ran = sum(debian == "runs" for _, _, debian in rows.values())
        self.assertIn(f"\nran: distill image 2 of 10, distill image + profile 0 of 10, Debian "
                      f"image {ran} of 10\n", result.stdout)
        self.assertRegex(result.stdout, r"\nsizes: distill image \d+ MB .*, Debian image \d+ MB")

        # The trap removed both containers.
        left = self.podman("ps", "--all", "--filter", "name=distill-demo-",
                           "--format", "{{.Names}}").stdout
        self.assertEqual(left.strip(), "")


def require():
    """What the examples need. Checked before unittest starts: it would turn the exit that
    reports a skip into an error."""
    dt.binary()
    dt.require_programs("javac", "jar", "podman", "runc", "mmdebstrap", "bash")
    if os.geteuid() != 0:
        dt.skip_or_fail("podman and mmdebstrap need root here (run as root, as CI does)")


if __name__ == "__main__":
    require()
    dt.main()
