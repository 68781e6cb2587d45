"""Integration: the manifest reader answers any YAML in bounded time. Each of the 402 inputs of
the YAML test suite (DISTILL_TESTDATA/yaml-test-suite), written as a manifest, makes
`distill plan` end within a second with exit code 0 or 3 (a located manifest error), never a
hang, a crash or another code; and the document yaml-cpp 0.7 loops on forever (a leading
flow-entry comma) is a syntax error at its line and column.

"Within a second" is measured as CPU time (user + system, distill and the parser child it
starts): on a busy two-core runner the wall time of any process start, even `distill
--version`, reaches half a second, which says nothing about the reader. The wall time is
printed too, and bounded at WALL_SECONDS, far beyond any answer but well short of a hang."""

import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
import distill_test as dt  # noqa: E402

CPU_SECONDS = 1.0
WALL_SECONDS = 5.0
# Only keeps a hang from stalling the test; the assertions are on the measured times.
HANG_SECONDS = 20


def closed_port():
    """A loopback port nothing listens on: a manifest that validated cannot reach a mirror."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class YamlSuite(dt.TestCase):
    def plan(self, manifest):
        """Runs `distill plan` on the manifest; returns (result, wall seconds, CPU seconds)."""
        env = {"DISTILL_DEBIAN_MIRROR": f"http://127.0.0.1:{closed_port()}/debian"}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        try:
            result = dt.run(["--cache-dir", self.cache, "plan", manifest], env=env,
                            timeout=HANG_SECONDS)
        except subprocess.TimeoutExpired:
            self.fail(f"distill plan {manifest} did not end within {HANG_SECONDS} s")
        wall = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return result, wall, cpu

    def assert_quick(self, name, wall, cpu):
        self.assertLess(cpu, CPU_SECONDS, f"{name}: {cpu:.2f} s of CPU time")
        self.assertLess(wall, WALL_SECONDS, f"{name}: {wall:.2f} s")

    def test_every_suite_input_ends_in_a_second_with_0_or_3(self):
        root = dt.testdata("yaml-test-suite/cases")
        cases = sorted(root.rglob("in.yaml"))
        self.assertEqual(len(cases), 402, "the YAML test suite has 402 inputs")
        manifest = self.scratch / "suite.yaml"
        walls, cpus, codes, failures = [], [], {}, []
        for case in cases:
            name = case.parent.relative_to(root)
            manifest.write_bytes(case.read_bytes())
            result, wall, cpu = self.plan(manifest)
            walls.append((wall, str(name)))
            cpus.append((cpu, str(name)))
            codes[result.returncode] = codes.get(result.returncode, 0) + 1
            if result.returncode not in (0, 3):
                failures.append(f"{name}: exit {result.returncode}\n{result.stderr[-2000:]}")
            elif result.returncode == 3 and f"{manifest}" not in result.stderr:
                failures.append(f"{name}: the error does not name the manifest\n{result.stderr}")
            elif cpu >= CPU_SECONDS or wall >= WALL_SECONDS:
                failures.append(f"{name}: {cpu:.2f} s of CPU time, {wall:.2f} s")
        print(f"[ figure ] {len(cases)} inputs: exit codes {dict(sorted(codes.items()))}; "
              f"CPU time max {max(cpus)[0] * 1000:.0f} ms ({max(cpus)[1]}), "
              f"mean {sum(t for t, _ in cpus) / len(cpus) * 1000:.0f} ms; "
              f"wall time max {max(walls)[0] * 1000:.0f} ms ({max(walls)[1]}), "
              f"mean {sum(t for t, _ in walls) / len(walls) * 1000:.0f} ms")
        self.assertEqual(failures, [], "\n".join(failures))

    def test_a_leading_flow_entry_comma_is_a_located_syntax_error(self):
        manifest = self.write("comma.yaml", ", name: app\ndistro: debian\n")
        result, wall, cpu = self.plan(manifest)
        print(f"[ figure ] the flow-entry comma document: exit {result.returncode}, "
              f"{cpu * 1000:.0f} ms of CPU time, {wall * 1000:.0f} ms")
        self.assertEqual(result.returncode, 3, result.stderr)
        self.assertEqual(result.stderr, f"distill: error: {manifest}:1:1: YAML syntax error: "
                                        "did not find expected node content\n")
        self.assert_quick("the comma document", wall, cpu)

    def test_a_manifest_too_large_is_refused_without_reading_it(self):
        manifest = self.scratch / "big.yaml"
        with open(manifest, "wb") as out:
            out.write(b"name: big\npackages:\n")
            out.truncate(64 << 20)  # sparse: 64 MiB of NULs after the start
        result, wall, cpu = self.plan(manifest)
        self.assertEqual(result.returncode, 3, result.stderr)
        self.assertIn(f"{manifest}: the manifest is larger than 1 MiB", result.stderr)
        self.assert_quick("the 64 MiB manifest", wall, cpu)


if __name__ == "__main__":
    dt.main()
