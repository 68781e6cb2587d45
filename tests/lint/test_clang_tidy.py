"""Lint: clang-tidy with the committed .clang-tidy over every source file of lib/ and cmd/.

Fails on any finding (the configuration makes every warning an error) and prints them. Needs
run-clang-tidy (Debian's clang-tidy package, installed by .ci/test) and the build tree's
compile_commands.json (DISTILL_BUILD_DIR, set by ctest).
"""

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
import distill_test as dt  # noqa: E402


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def main():
    runner = shutil.which("run-clang-tidy") or shutil.which("run-clang-tidy-14")
    if runner is None:
        dt.skip_or_fail("run-clang-tidy is not installed (Debian package clang-tidy)")
    build = Path(os.environ["DISTILL_BUILD_DIR"])
    if not (build / "compile_commands.json").is_file():
        print(f"FAIL: {build}/compile_commands.json is missing", file=sys.stderr)
        return 1
    source = dt.source_dir()
    files = sorted(p for folder in ("lib", "cmd") for p in (source / folder).rglob("*.cpp"))
    started = time.monotonic()
    result = subprocess.run(
        [runner, "-p", str(build), "-quiet", "-j", str(os.cpu_count() or 1),
         re.escape(str(source)) + r"/(lib|cmd)/.*\.cpp$"],
        capture_output=True, text=True, timeout=1800)
    output = ANSI.sub("", result.stdout)
    findings = [line for line in output.splitlines()
                if ": warning: " in line or ": error: " in line]
    print(f"clang-tidy: {len(files)} files in {time.monotonic() - started:.0f} s, "
          f"{len(findings)} findings, exit {result.returncode}")
    if result.returncode != 0 or findings:
        print(output[-20000:])
        print(result.stderr[-4000:], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
