"""Integration: the manifest reader answers any YAML in bounded time. Each of the 402 inputs of
the YAML test suite (DISTILL_TESTDATA/yaml-test-suite), written as a manifest, makes
`distill plan` end within a second with exit code 0 or 3 (a located manifest error), never a
hang, a crash or another code; and the document yaml-cpp 0.7 loops on forever (a leading
flow-entry comma) is a syntax error at its line and column."""

import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
import distill_test as dt  # noqa: E402

# More than any answer needs; the assertion is on the measured time, this only keeps a hang
# from stalling the test.
HANG_SECONDS = 20


def closed_port():
    """A loopback port nothing listens on: a manifest that validated cannot reach a mirror."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class YamlSuite(dt.TestCase):
    def plan(self, manifest):
        """Runs `distill plan` on the manifest; returns (result, seconds)."""
        env = {"DISTILL_DEBIAN_MIRROR": f"http://127.0.0.1:{closed_port()}/debian"}
        started = time.monotonic()
        try:
            result = dt.run(["--cache-dir", self.cache, "plan", manifest], env=env,
                            timeout=HANG_SECONDS)
        except subprocess.TimeoutExpired:
            self.fail(f"distill plan {manifest} did not end within {HANG_SECONDS} s")
        return result, time.monotonic() - started

    def test_every_suite_input_ends_in_a_second_with_0_or_3(self):
        root = dt.testdata("yaml-test-suite/cases")
        cases = sorted(root.rglob("in.yaml"))
        self.assertEqual(len(cases), 402, "the YAML test suite has 402 inputs")
        manifest = self.scratch / "suite.yaml"
        times, codes, failures = [], {}, []
        for case in cases:
            name = case.parent.relative_to(root)
            manifest.write_bytes(case.read_bytes())
            result, seconds = self.plan(manifest)
            times.append((seconds, str(name)))
            codes[result.returncode] = codes.get(result.returncode, 0) + 1
            if result.returncode not in (0, 3):
                failures.append(f"{name}: exit {result.returncode}\n{result.stderr[-2000:]}")
            elif result.returncode == 3 and f"{manifest}" not in result.stderr:
                failures.append(f"{name}: the error does not name the manifest\n{result.stderr}")
            elif seconds >= 1.0:
                failures.append(f"{name}: took {seconds:.2f} s")
        slowest, which = max(times)
        print(f"[ figure ] {len(cases)} inputs: exit codes {dict(sorted(codes.items()))}, "
              f"slowest {slowest * 1000:.0f} ms ({which}), "
              f"mean {sum(t for t, _ in times) / len(times) * 1000:.0f} ms")
        self.assertEqual(failures, [], "\n".join(failures))

    def test_a_leading_flow_entry_comma_is_a_located_syntax_error(self):
        manifest = self.write("comma.yaml", ", name: app\ndistro: debian\n")
        result, seconds = self.plan(manifest)
        print(f"[ figure ] the flow-entry comma document: exit {result.returncode} in "
              f"{seconds * 1000:.0f} ms")
        self.assertEqual(result.returncode, 3, result.stderr)
        self.assertIn(f"{manifest}:1:1: YAML syntax error: did not find expected node content",
                      result.stderr)
        self.assertLess(seconds, 1.0)

    def test_a_manifest_too_large_is_refused_without_reading_it(self):
        manifest = self.scratch / "big.yaml"
        with open(manifest, "wb") as out:
            out.write(b"name: big\npackages:\n")
            out.truncate(64 << 20)  # sparse: 64 MiB of NULs after the start
        result, seconds = self.plan(manifest)
        self.assertEqual(result.returncode, 3, result.stderr)
        self.assertIn(f"{manifest}: the manifest is larger than 1 MiB", result.stderr)
        self.assertLess(seconds, 1.0)


if __name__ == "__main__":
    dt.main()
