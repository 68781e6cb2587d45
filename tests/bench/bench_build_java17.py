"""Benchmark: a warm `distill build manifests/java17.yaml` against `mmdebstrap
--variant=extract` of the same packages, side by side in one run.

Both start with every package already downloaded: distill from its cache (and its lock, as every
build after the first), mmdebstrap from an apt archive directory synced into its chroot. Like
for like, distill makes no SBOM here (--no-sbom), as mmdebstrap makes none. Runs alternate
between the two; the figures are medians. Then builds with and without the SBOMs alternate: the
difference is what the SBOMs cost. distill's peak RSS is the largest of its runs. Targets: at
most 0.3x mmdebstrap's time (the build issue asked for 0.5x; measured between 0.17x and 0.23x
on machines where mmdebstrap took 15 s and 11 s, three quarters of distill's time being the
layer's gzip, so 0.3x is a regression guard that a machine's speed does not trip), SBOMs adding
at most 15% to the build (they take 0.22 s to 0.30 s: a SHA-1 of every file, which SPDX
requires, and the two documents; that was 7.9% of a 2.8 s build and is 9% to 14% of a 2.1 s
one),
and a peak RSS within 10% of the 54 MB measured once a build from the lock resolved again from
the signed indexes to check the lock (the solver's pool of Debian's main index is the peak; it
was 37 MB when the lock was taken on trust), so that a refactoring that copies package data
around shows up here; the script fails when a target is missed.

Run by ctest (label `bench`); alone: DISTILL_BINARY=build/distill python3 tests/bench/bench_build_java17.py
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

RUNS = int(os.environ.get("DISTILL_BENCH_RUNS", "3"))
MAX_RATIO = 0.3
BASELINE_RSS_MB = 54
MAX_RSS_MB = BASELINE_RSS_MB * 1.10
MAX_SBOM_SHARE = 0.15
SBOM_RUNS = int(os.environ.get("DISTILL_BENCH_SBOM_RUNS", "5"))


def timed(command, **kwargs):
    """Runs `command`; returns (seconds, peak RSS in MB of the process itself, stdout). What the
    run before wrote (mmdebstrap's 270 MB tarball, distill's layer) reaches the disk first, so
    that neither tool's time holds the other's writeback."""
    os.sync()
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)
    out, err = b"", b""
    # wait4 gives this child's own resource usage (peak RSS included).
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.monotonic() - started
    out = process.stdout.read()
    err = process.stderr.read()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{command[0]} exited {process.returncode}:\n{err.decode()[-3000:]}")
    return elapsed, usage.ru_maxrss / 1024, out.decode()


def apt_sources():
    """The host's Debian sources (mmdebstrap reads the same format), or DISTILL_DEBIAN_MIRROR."""
    if os.environ.get("DISTILL_DEBIAN_MIRROR"):
        return None
    files = sorted(Path("/etc/apt/sources.list.d").glob("*.sources"))
    if files:
        return files[0]
    if Path("/etc/apt/sources.list").exists():
        return Path("/etc/apt/sources.list")
    dt.skip_or_fail("no apt sources on this host")


def main():
    dt.require_programs("mmdebstrap")
    if os.geteuid() != 0:
        dt.skip_or_fail("mmdebstrap needs root here (run as root, as CI does)")
    manifest = dt.source_dir() / "manifests" / "java17.yaml"
    work = Path(tempfile.mkdtemp(prefix="distill-bench-"))
    try:
        cache = work / "cache"
        distill = [dt.binary(), "-q", "--cache-dir", str(cache)]
        lock = ["--lock", str(work / "java17.lock")]  # not beside the stock manifest
        plan = json.loads(subprocess.run([*distill, "plan", "--json", str(manifest)],
                                         capture_output=True, text=True, check=True).stdout)
        names = [p["name"] for p in plan["packages"]]

        sources = apt_sources()
        mirror = os.environ.get("DISTILL_DEBIAN_MIRROR")
        target = [str(sources)] if sources else [mirror]
        archives = work / "archives"
        archives.mkdir()
        mm_base = ["mmdebstrap", "--quiet", "--variant=extract", "--include=" + ",".join(names),
                   "--setup-hook=mkdir -p \"$1\"/var/cache/apt/archives/",
                   f"--setup-hook=sync-in {archives} /var/cache/apt/archives/"]
        # Warm both: distill's cache, and mmdebstrap's archive directory (synced out once).
        timed([*distill, "build", *lock, "-o", str(work / "image"), str(manifest)])
        timed([*mm_base, f"--extract-hook=sync-out /var/cache/apt/archives {archives}",
               "bookworm", str(work / "rootfs.tar"), *target])
        mm_packages = len(list(archives.glob("*.deb")))

        distill_times, mm_times, rss, plain_times = [], [], [], []
        result = None
        for _ in range(RUNS):
            seconds, peak, out = timed([*distill, "build", *lock, "--json", "--no-sbom", "-o",
                                        str(work / "plain"), str(manifest)])
            distill_times.append(seconds)
            rss.append(peak)
            result = json.loads(out)

            seconds, _, _ = timed([*mm_base, "bookworm", str(work / "rootfs.tar"), *target])
            mm_times.append(seconds)

        # What the SBOMs add: builds with and without them (--no-sbom), alternating, more runs
        # than above as the difference is small.
        with_times = []
        for _ in range(SBOM_RUNS):
            seconds, peak, out = timed([*distill, "build", *lock, "--json", "-o",
                                        str(work / "image"), str(manifest)])
            with_times.append(seconds)
            rss.append(peak)
            with_result = json.loads(out)
            seconds, peak, _ = timed([*distill, "build", *lock, "--no-sbom", "-o",
                                      str(work / "plain"), str(manifest)])
            plain_times.append(seconds)
            rss.append(peak)

        ours = statistics.median(distill_times)
        theirs = statistics.median(mm_times)
        ratio = ours / theirs
        arch = result["archs"][0]
        print(f"java17, {RUNS} runs each, alternating (packages already downloaded for both):")
        print(f"  distill build --no-sbom median {ours:4.2f} s  (runs: "
              f"{', '.join(f'{t:.2f}' for t in distill_times)})  peak RSS {max(rss):.1f} MB "
              f"(target <= {MAX_RSS_MB:.1f} MB)")
        print(f"  mmdebstrap extract    median {theirs:6.2f} s  (runs: "
              f"{', '.join(f'{t:.2f}' for t in mm_times)})")
        print(f"  ratio of medians      {ratio:.2f}x  (target <= {MAX_RATIO}x)")
        plain = statistics.median(plain_times)
        with_sbom = statistics.median(with_times)
        sboms = ", ".join(f"{s['format']} {s['size'] / 1e6:.2f} MB"
                          for s in with_result["archs"][0]["sboms"])
        added = (with_sbom - plain) / plain
        print(f"  SBOMs ({sboms}), {SBOM_RUNS} runs each, alternating:")
        print(f"    with them           median {with_sbom:6.2f} s  (runs: "
              f"{', '.join(f'{t:.2f}' for t in with_times)})")
        print(f"    --no-sbom           median {plain:6.2f} s  (runs: "
              f"{', '.join(f'{t:.2f}' for t in plain_times)})")
        print(f"    they add            {with_sbom - plain:+.2f} s, {added:+.1%} "
              f"(target <= {MAX_SBOM_SHARE:.0%})")
        print(f"  distill image: {arch['packages']} packages, {arch['files']} files, "
              f"{arch['size'] / 1e6:.1f} MB compressed layer+config+manifest, "
              f"{arch['uncompressed_size'] / 1e6:.1f} MB of files")
        print(f"  mmdebstrap tarball: {mm_packages} packages (apt adds the dependencies distill "
              f"keeps out), {(work / 'rootfs.tar').stat().st_size / 1e6:.1f} MB uncompressed")
        failures = []
        if ratio > MAX_RATIO:
            failures.append(f"ratio {ratio:.2f} above {MAX_RATIO}")
        if added > MAX_SBOM_SHARE:
            failures.append(f"SBOMs add {added:.1%}, above {MAX_SBOM_SHARE:.0%}")
        if max(rss) > MAX_RSS_MB:
            failures.append(f"peak RSS {max(rss):.1f} MB above {MAX_RSS_MB:.1f} MB")
        if failures:
            print("MISSED: " + "; ".join(failures))
            return 1
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
