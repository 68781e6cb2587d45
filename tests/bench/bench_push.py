"""Benchmark: `distill push` of java17 (amd64 and arm64, one image index) against `skopeo copy
--all --preserve-digests` of the same OCI layout, side by side in one run.

The layout holds the image alone (built --no-sbom), as skopeo copies an image without its
referrers. Each run of each tool pushes into an empty registry of its own (Debian's docker-registry on
127.0.0.1, a new data directory every time), so neither finds a blob left by the other or by an
earlier run; then it pushes the same layout again into that registry (the nightly "nothing
changed" case: skopeo finds every blob there and writes the manifests again; distill finds the
tag naming the image and sends nothing). Runs alternate between the two tools; the figures are
medians. Targets: the first push at most 1.25x skopeo's time and the second at most 1.0x
skopeo's (the script fails when a target is missed).

Run by ctest (label `bench`); alone: DISTILL_BINARY=build/distill python3 tests/bench/bench_push.py
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
import distill_test as dt  # noqa: E402
from registry_test import Registry  # noqa: E402

RUNS = int(os.environ.get("DISTILL_BENCH_RUNS", "3"))
MAX_FIRST_RATIO = 1.25
MAX_SECOND_RATIO = 1.0


def timed(command):
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, timeout=1200)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} exited {result.returncode}:\n{result.stderr[-3000:]}")
    return elapsed, result.stdout


def main():
    dt.require_programs("docker-registry", "skopeo")
    work = Path(tempfile.mkdtemp(prefix="distill-bench-push-", dir="/tmp"))
    registries = []
    try:
        manifest = work / "java17.yaml"
        manifest.write_text(f"include: {dt.source_dir() / 'manifests' / 'java17.yaml'}\n"
                            "archs: [amd64, arm64]\n")
        layout = work / "java17"
        built = json.loads(subprocess.run(
            [dt.binary(), "-q", "--cache-dir", work / "cache", "build", "--json", "--no-sbom",
             "-o", layout, manifest], capture_output=True, text=True, check=True).stdout)
        blobs = sum(1 for _ in (layout / "blobs" / "sha256").iterdir())
        size = sum(p.stat().st_size for p in (layout / "blobs" / "sha256").iterdir())

        def fresh_registry(name):
            directory = work / name
            directory.mkdir()
            registry = Registry(directory)
            registries.append(registry)
            return registry.start()

        def distill(registry):
            return [dt.binary(), "-q", "--cache-dir", work / "push-state", "push", "--json",
                    layout, f"{registry.host}/bench/java17:17"]

        def skopeo(registry):
            return ["skopeo", "copy", "--quiet", "--all", "--preserve-digests",
                    "--dest-tls-verify=false", f"oci:{layout}:latest",
                    f"docker://{registry.host}/bench/java17:17"]

        times = {("distill", 1): [], ("distill", 2): [], ("skopeo", 1): [], ("skopeo", 2): []}
        for run in range(RUNS):
            for tool, command in (("distill", distill), ("skopeo", skopeo)):
                registry = fresh_registry(f"{tool}-{run}")
                for attempt in (1, 2):
                    seconds, out = timed(command(registry))
                    times[(tool, attempt)].append(seconds)
                    if tool == "distill":
                        pushed = json.loads(out)
                        if pushed["digest"] != built["digest"]:
                            raise AssertionError(f"pushed {pushed['digest']}, "
                                                 f"built {built['digest']}")
                        reference = pushed["references"][0]
                        expected = (4, False) if attempt == 1 else (0, True)
                        if (reference["blobs_uploaded"], reference["unchanged"]) != expected:
                            raise AssertionError(f"push {attempt}: {reference}")
                registry.stop()
                shutil.rmtree(registry.directory / "data", ignore_errors=True)

        def median(tool, attempt):
            return statistics.median(times[(tool, attempt)])

        def runs(tool, attempt):
            return ", ".join(f"{t:.2f}" for t in times[(tool, attempt)])

        first = median("distill", 1) / median("skopeo", 1)
        second = median("distill", 2) / median("skopeo", 2)
        print(f"java17 for amd64 and arm64: {blobs} blobs, {size / 1e6:.1f} MB; "
              f"{RUNS} runs each, alternating, each into an empty registry on 127.0.0.1:")
        print(f"  first push   distill median {median('distill', 1):6.2f} s  "
              f"(runs: {runs('distill', 1)})")
        print(f"               skopeo  median {median('skopeo', 1):6.2f} s  "
              f"(runs: {runs('skopeo', 1)})")
        print(f"               ratio {first:.2f}x  (target <= {MAX_FIRST_RATIO}x)")
        print(f"  second push  distill median {median('distill', 2):6.2f} s  "
              f"(runs: {runs('distill', 2)})")
        print(f"               skopeo  median {median('skopeo', 2):6.2f} s  "
              f"(runs: {runs('skopeo', 2)})")
        print(f"               ratio {second:.2f}x  (target <= {MAX_SECOND_RATIO}x)")
        failures = []
        if first > MAX_FIRST_RATIO:
            failures.append(f"first push ratio {first:.2f} above {MAX_FIRST_RATIO}")
        if second > MAX_SECOND_RATIO:
            failures.append(f"second push ratio {second:.2f} above {MAX_SECOND_RATIO}")
        if failures:
            print("MISSED: " + "; ".join(failures))
            return 1
        return 0
    finally:
        for registry in registries:
            registry.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
