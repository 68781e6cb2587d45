"""System: the stock static image from the real mirror as a docker-archive and an oci-archive,
loaded by `docker load` and `podman load` under the name given with --tag, and run from there;
docker also runs it with the flags `distill inspect --run` prints for docker, under the runtime
profile written beside the archive.

docker: the Debian docker.io package (20.10). The test starts a private dockerd of its own: its
data root, exec root (where it starts its own containerd), pid file, config file and socket are
in a scratch directory, and it creates no bridge and no iptables rules (--bridge=none,
--iptables=false, --ip6tables=false), so nothing on the host changes; containers run with
--network none. On these machines it needs no other setting. It is stopped by its PID at the
end, also when a test fails. podman: a private storage (--root, --runroot) in the scratch
directory, with runc and the limits these machines need.
"""

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
import distill_test as dt  # noqa: E402

MANIFESTS = dt.source_dir() / "manifests"
PROGRAMS = dt.source_dir() / "tests" / "data" / "programs"
# Debian's docker.io, named by path: another docker client may come first on PATH.
DOCKER = "/usr/bin/docker"
DOCKERD = "/usr/sbin/dockerd"
NAME = "localhost/team/static:1"
OCI_NAME = "localhost/team/static-oci:1"
HELLO = "hello from uid 65532 (nonroot)\n"


class Dockerd:
    """A private dockerd in `directory`, stopped by its PID."""

    def __init__(self, directory):
        self.directory = directory
        self.socket = directory / "docker.sock"
        self.log_path = directory / "dockerd.log"
        self.process = None

    def start(self):
        (self.directory / "daemon.json").write_text("{}\n")  # not the host's /etc/docker one
        with open(self.log_path, "wb") as log:
            # A session of its own: a Ctrl-C on the test does not reach it before cleanup.
            self.process = subprocess.Popen(
                [DOCKERD, "--data-root", self.directory / "data",
                 "--exec-root", self.directory / "exec",
                 "--pidfile", self.directory / "dockerd.pid",
                 "--config-file", self.directory / "daemon.json",
                 "-H", f"unix://{self.socket}",
                 "--bridge=none", "--iptables=false", "--ip6tables=false"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"dockerd exited {self.process.returncode}:\n{self.log()}")
            if subprocess.run([DOCKER, "-H", f"unix://{self.socket}", "version"],
                              capture_output=True, timeout=30).returncode == 0:
                return
            time.sleep(0.5)
        raise AssertionError(f"dockerd did not answer within 120 s:\n{self.log()}")

    def log(self):
        return self.log_path.read_text(errors="replace")[-3000:]

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # it stops its containerd and unmounts
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
            # dockerd could not stop the containerd it started: stop that one by its PID too.
            pidfile = self.directory / "exec" / "containerd" / "containerd.pid"
            if pidfile.exists():
                try:
                    os.kill(int(pidfile.read_text().strip()), signal.SIGKILL)
                except (ValueError, ProcessLookupError):
                    pass

    def __call__(self, *args, check=True, timeout=300):
        result = subprocess.run([DOCKER, "-H", f"unix://{self.socket}", *args],
                                capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} exited {result.returncode}:\n"
                                 f"{result.stderr[-3000:]}\ndockerd's log:\n{self.log()}")
        return result


class Archives(dt.TestCase):
    shared = None  # class-wide scratch: the cache, the archives, the daemons' storage

    @classmethod
    def setUpClass(cls):
        dt.require_programs("podman", "runc", "skopeo", "gcc")
        if not (Path(DOCKER).exists() and Path(DOCKERD).exists()):
            dt.skip_or_fail(f"needs {DOCKER} and {DOCKERD} (Debian's docker.io, installed by "
                            ".ci/test)")
        if os.geteuid() != 0:
            dt.skip_or_fail("needs root to run dockerd and podman")
        # Short: dockerd's containerd socket lives below it, and socket paths have a limit.
        cls.shared = dt.scratch_dir("distill-arch-", "/tmp")
        cls.conf = cls.shared / "containers.conf"
        cls.conf.write_text(dt.CONTAINERS_CONF)
        for program in ("hello", "probe"):
            subprocess.run(["gcc", "-O2", "-static", "-o", cls.shared / f"{program}-static",
                            PROGRAMS / f"{program}.c"], check=True, capture_output=True)
        # static has no shell and no libc: a static program to run in it.
        cls.manifest = cls.shared / "archives-static.yaml"
        cls.manifest.write_text(
            f"include: {MANIFESTS / 'static.yaml'}\n"
            "name: distill-archives-static\n"
            "files:\n"
            f"  - src: {cls.shared / 'hello-static'}\n"
            "    dst: /usr/local/bin/hello\n"
            "    mode: \"0755\"\n"
            f"  - src: {cls.shared / 'probe-static'}\n"
            "    dst: /usr/local/bin/probe\n"
            "    mode: \"0755\"\n"
            "config:\n"
            "  entrypoint: [/usr/local/bin/hello]\n")
        cls.results = {}
        cls.docker_tar = cls.build("docker-archive", NAME, "static.docker.tar")
        cls.oci_tar = cls.build("oci-archive", OCI_NAME, "static.oci.tar")
        cls.bare_tar = cls.build("docker-archive", "7", "bare.docker.tar")

    @classmethod
    def tearDownClass(cls):
        if cls.shared is not None:
            shutil.rmtree(cls.shared, ignore_errors=True)

    @classmethod
    def build(cls, format, tag, file):
        output = cls.shared / file
        result = dt.run(["--cache-dir", cls.shared / "cache", "build", "--json",
                         "--format", format, "--tag", tag, "-o", output, cls.manifest],
                        check=0)
        cls.results[file] = json.loads(result.stdout)
        return output

    def podman(self, *args, check=True):
        return dt.podman_private(self.shared / "podman", self.conf, *args, check=check)

    def podman_names(self):
        listed = self.podman("images", "--format", "{{.Repository}}:{{.Tag}}").stdout
        return sorted(line for line in listed.splitlines() if line)

    def podman_load(self, archive, name):
        """Loads `archive` into podman's empty storage; checks the one name it got and that the
        image runs under it; removes the image."""
        self.assertEqual(self.podman_names(), [])
        try:
            loaded = self.podman("load", "-i", archive)
            self.assertIn(f"Loaded image: {name}\n", loaded.stdout)
            self.assertEqual(self.podman("image", "exists", name, check=False).returncode, 0)
            self.assertEqual(self.podman_names(), [name])  # and no other name
            ran = self.podman("run", "--rm", "--network=none", "--pull=never", name)
            self.assertEqual(ran.stdout, HELLO)
            return json.loads(self.podman("image", "inspect", name).stdout)[0]
        finally:
            # Whatever the load named it: the next test starts from empty storage again.
            self.podman("rmi", "--all", "--force")
            self.assertEqual(self.podman_names(), [])

    # --- docker ---------------------------------------------------------------------------

    def test_docker_loads_and_runs_the_docker_archive_under_its_name(self):
        result = self.results["static.docker.tar"]
        dockerd = Dockerd(Path(tempfile.mkdtemp(prefix="dk-", dir=self.shared)))
        try:
            dockerd.start()
            loaded = dockerd("load", "-i", str(self.docker_tar))
            self.assertIn(f"Loaded image: {NAME}\n", loaded.stdout)
            inspected = json.loads(dockerd("image", "inspect", NAME).stdout)[0]
            self.assertEqual(inspected["RepoTags"], [NAME])
            # docker 20.10 names an image by its config's digest.
            self.assertEqual(inspected["Id"], result["archs"][0]["config"])
            self.assertEqual(inspected["Config"]["User"], "65532:65532")
            ran = dockerd("run", "--rm", "--network", "none", NAME)
            self.assertEqual(ran.stdout, HELLO)
            self.check_docker_runs_it_under_its_profile(dockerd)
            # The name the build said it would load under.
            self.assertEqual(result["image_name"], NAME)
            self.assertEqual(result["archive_size"], self.docker_tar.stat().st_size)

            # A bare tag: the manifest's name, which docker files under docker.io/library.
            loaded = dockerd("load", "-i", str(self.bare_tar))
            self.assertIn("Loaded image: distill-archives-static:7\n", loaded.stdout)
            self.assertEqual(self.results["bare.docker.tar"]["image_name"],
                             "docker.io/library/distill-archives-static:7")
            dockerd("image", "inspect", "docker.io/library/distill-archives-static:7")

            dockerd("rmi", NAME, "distill-archives-static:7")
            self.assertEqual(dockerd("images", "--quiet").stdout, "")
        finally:
            dockerd.stop()  # its images go with its data root and the scratch directory
        self.assertIsNotNone(dockerd.process.poll())

    def check_docker_runs_it_under_its_profile(self, dockerd):
        """The docker command `inspect --run` prints, with the profile written beside the
        archive: the image runs, and what the probe tries is refused."""
        printed = json.loads(dt.run(["inspect", self.oci_tar, "--run", "--json"],
                                    check=0).stdout)
        words = shlex.split(printed["docker"])
        self.assertEqual(words[:2], ["docker", "run"])
        self.assertEqual(words[-1], "IMAGE")
        profile = self.results["static.docker.tar"]["seccomp_profile"]
        self.assertEqual(Path(profile).read_bytes(),
                         Path(printed["seccomp_profile"]).read_bytes())
        options = [word.replace(printed["seccomp_profile"], profile) for word in words[2:-1]]
        self.assertIn(f"--security-opt=seccomp={profile}", options)
        ran = dockerd("run", "--rm", "--network", "none", *options, NAME)
        self.assertEqual(ran.stdout, HELLO)
        probed = dockerd("run", "--rm", "--network", "none", *options,
                         "--entrypoint", "/usr/local/bin/probe", NAME).stdout
        self.assertEqual(dt.probe_results(probed), dt.PROBE_REFUSED)

    # --- podman ---------------------------------------------------------------------------

    def test_podman_loads_and_runs_the_docker_archive_under_its_name(self):
        inspected = self.podman_load(self.docker_tar, NAME)
        self.assertEqual(inspected["Digest"], self.results["static.docker.tar"]["digest"])

    def test_podman_loads_and_runs_the_oci_archive_under_its_name(self):
        result = self.results["static.oci.tar"]
        self.assertEqual(result["image_name"], OCI_NAME)
        inspected = self.podman_load(self.oci_tar, OCI_NAME)
        self.assertEqual(inspected["Digest"], result["digest"])

    def test_podman_gives_a_bare_tag_the_name_docker_gives(self):
        self.podman_load(self.bare_tar, "docker.io/library/distill-archives-static:7")


if __name__ == "__main__":
    dt.main()
