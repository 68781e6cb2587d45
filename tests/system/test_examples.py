"""System: the examples, end to end: the Java service built into the java17 image and answering
over HTTP, and the command-injection demo against the distill image and full Debian."""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
import distill_test as dt  # noqa: E402

EXAMPLES = dt.source_dir() / "examples"
CONTAINERS_CONF = """[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Examples(dt.TestCase):
    def setUp(self):
        super().setUp()
        dt.require_programs("javac", "jar", "podman", "runc", "mmdebstrap")
        self.env = {**os.environ, "DISTILL": dt.binary(), "XDG_CACHE_HOME": str(self.cache)}

    def test_java_service(self):
        subprocess.run(["bash", EXAMPLES / "java-service" / "build.sh"], env=self.env, check=True,
                       capture_output=True)
        conf = self.scratch / "containers.conf"
        conf.write_text(CONTAINERS_CONF)
        port = free_port()
        name = f"distill-test-service-{os.getpid()}"
        layout = EXAMPLES / "java-service" / "out" / "image"
        subprocess.run(["podman", "run", "--detach", "--rm", "--network=host", "--name", name,
                        "-e", f"PORT={port}", f"oci:{layout}:latest"], check=True,
                       capture_output=True, env={**os.environ, "CONTAINERS_CONF": str(conf)})
        try:
            answer = None
            for _ in range(120):
                try:
                    answer = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read()
                    break
                except OSError:
                    time.sleep(0.5)
            self.assertIsNotNone(answer, "the service never answered")
            reply = json.loads(answer)
            self.assertEqual(reply["service"], "java-service")
            self.assertTrue(reply["java"].startswith("17."), reply)
            self.assertEqual(reply["uid"], 65532)
        finally:
            subprocess.run(["podman", "rm", "--force", "--time", "1", name], capture_output=True,
                           env={**os.environ, "CONTAINERS_CONF": str(conf)})

    def test_command_injection_demo(self):
        result = subprocess.run(["bash", EXAMPLES / "command-injection" / "demo.sh"],
                                env=self.env, capture_output=True, text=True, timeout=1200)
        print(result.stdout[result.stdout.find("attacker runs"):])
        self.assertEqual(result.returncode, 0, result.stderr[-3000:])
        rows = {}
        for line in result.stdout.splitlines():
            cells = [c.strip() for c in line.split("|")]
            if len(cells) == 3 and cells[0] not in ("attacker runs",) and not cells[0].startswith("-"):
                rows[cells[0]] = (cells[1], cells[2])
        self.assertEqual(len(rows), 8, result.stdout)
        for command, (distroless, debian) in rows.items():
            self.assertEqual(distroless, "blocked (no such program)", command)
        for command in ("sh -c id", "ls /", "cat /etc/passwd", "apt-get --version",
                        "perl -e print(42)"):
            self.assertEqual(rows[command][1], "runs", command)
        self.assertRegex(result.stdout, r"ran: distill image 0 of 8, Debian image \d of 8")


if __name__ == "__main__":
    dt.main()
