"""Runs one libFuzzer target (tests/fuzz/fuzz_NAME.cpp, built with -DDISTILL_FUZZ=ON) for a
bounded time: first every committed regression input of tests/fuzz/regressions/NAME/ once,
then fuzzing from a seed corpus made here from the third-party fixtures (DISTILL_TESTDATA) and
the repository's own files. Prints the executions, coverage and corpus size; fails when the
target crashes, leaks, hangs (-timeout) or exceeds -rss_limit_mb, naming the input it saved.

Usage: run_fuzz.py BINARY NAME SECONDS WORKDIR"""

import gzip
import io
import json
import lzma
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
import distill_test as dt  # noqa: E402

SOURCE = dt.source_dir()
# An input that runs longer than this is a hang; libFuzzer saves it as timeout-*.
TIMEOUT_SECONDS = 5
RSS_LIMIT_MB = 2048


def ar_members(data):
    """(name, bytes) of an ar archive (a .deb), or nothing when it is not one."""
    if not data.startswith(b"!<arch>\n"):
        return
    offset = 8
    while offset + 60 <= len(data):
        header = data[offset:offset + 60]
        name = header[:16].decode("ascii", "replace").strip().rstrip("/")
        try:
            size = int(header[48:58].decode("ascii").strip())
        except ValueError:
            return
        yield name, data[offset + 60:offset + 60 + size]
        offset += 60 + size + (size & 1)


def tar_of(name, data):
    """A tarfile for a .deb member the standard library can read (gz, xz or none)."""
    if name.endswith(".gz"):
        data = gzip.decompress(data)
    elif name.endswith(".xz"):
        data = lzma.decompress(data)
    elif not name.endswith(".tar"):
        return None
    return tarfile.open(fileobj=io.BytesIO(data))


def deb_files(testdata):
    return sorted((testdata / "deb").rglob("*.deb")) + sorted((testdata / "deb").rglob("*.udeb"))


def from_debs(testdata, member_prefix, wanted):
    """Files inside the fixtures' .debs: `wanted(path)` picks them from members starting with
    `member_prefix` (control.tar or data.tar); gzip-compressed files are decompressed."""
    out = []
    for deb in deb_files(testdata):
        for name, data in ar_members(deb.read_bytes()):
            if not name.startswith(member_prefix):
                continue
            try:
                tar = tar_of(name, data)
                if tar is None:
                    continue
                for info in tar.getmembers():
                    if info.isfile() and wanted(info.name):
                        content = tar.extractfile(info).read()
                        if info.name.endswith(".gz"):
                            content = gzip.decompress(content)
                        out.append(content)
            except (tarfile.TarError, lzma.LZMAError, OSError, EOFError):
                continue  # a fixture with an unusual member (zstd, truncated) gives no seeds
    return out


def paragraphs(text):
    return [p + b"\n" for p in re.split(rb"\n\s*\n", text) if p.strip()]


def apkindex_text(path):
    """The APKINDEX text inside an APKINDEX.tar.gz (gzip members: a signature tar without
    end-of-archive blocks, then the tar with DESCRIPTION and APKINDEX)."""
    expanded = gzip.decompress(path.read_bytes())
    with tarfile.open(fileobj=io.BytesIO(expanded), mode="r:", ignore_zeros=True) as tar:
        for member in tar:
            if member.name == "APKINDEX":
                return tar.extractfile(member).read()
    raise SystemExit(f"{path}: no APKINDEX")


def lock_seed():
    """A lockfile as `distill lock` writes it (see manifests/README.md, "The lockfile")."""
    package = {"name": "hello", "version": "2.10-3", "arch": "amd64", "suite": "bookworm",
               "source": "hello", "url": "http://127.0.0.1/debian/pool/main/h/hello.deb",
               "size": 53000, "installed_size": 280000, "sha256": "ab" * 32}
    return json.dumps({
        "lockfile_version": 1, "name": "hello",
        "manifest": {"digest": "sha256:" + "cd" * 32, "files": ["hello.yaml"]},
        "sources": [{"release": "http://127.0.0.1/debian/dists/bookworm/InRelease",
                     "sha256": "ef" * 32, "signers": ["0123456789ABCDEF"],
                     "keyring": "/usr/share/keyrings/debian-archive-keyring.gpg"}],
        "archs": [{"arch": "amd64", "packages": [package],
                   "excluded": [{"name": "debconf", "reason": "package manager",
                                 "wanted_by": ["hello"]}]}],
    }, indent=2).encode()


def seeds(name, testdata):
    """The seed inputs of target `name`, as a list of bytes."""
    deb = testdata / "deb"
    if name == "manifest":
        files = sorted((testdata / "yaml-test-suite").rglob("in.yaml"))
        files += sorted((SOURCE / "manifests").glob("*.yaml"))
        files += sorted((SOURCE / "examples").rglob("*.yaml"))
        return [f.read_bytes() for f in files]
    if name == "lock":
        return [lock_seed()] + [f.read_bytes() for f in sorted((testdata / "oci").rglob("*.json"))]
    if name == "version":
        out = []
        for line in (testdata / "versions" / "deb-compare.txt").read_text().splitlines():
            parts = line.split(" ")
            if not line.startswith("#") and len(parts) == 3:
                out.append(f"{parts[0]}\n{parts[2]}".encode())
        for line in (testdata / "versions" / "deb-validity.txt").read_text().splitlines():
            parts = line.split("\t")
            if not line.startswith("#") and len(parts) >= 2:
                out.append(parts[1].encode())
        # apk-tools' vectors: "ver1 op ver2" as two versions, a lone version as it is.
        for data in sorted((testdata / "versions").glob("apk-tools*.data")):
            for line in data.read_text().splitlines():
                parts = line.split("#")[0].split()
                if len(parts) == 3:
                    out.append(f"{parts[0]}\n{parts[2]}".encode())
                    out.append(f"name{parts[1].lstrip('!')}{parts[2]}\n{parts[0]}".encode())
                elif len(parts) == 1:
                    out.append(parts[0].lstrip("!").encode())
        return out
    if name == "changelog":
        return from_debs(testdata, "data.tar", lambda p: "/changelog" in p)
    if name == "copyright":
        out = from_debs(testdata, "data.tar", lambda p: p.endswith("/copyright"))
        out += [b"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
                b"Files: *\nLicense: GPL-2+ with GCC-exception-3.1 exception or MIT\n",
                b"MIT AND (Apache-2.0 WITH LLVM-exception OR BSD-3-Clause)"]
        return out
    if name == "release":
        return [f.read_bytes() for f in sorted(deb.rglob("*Release"))]
    if name == "packages":
        return [f.read_bytes() for f in sorted(deb.rglob("Packages"))] + [
            (SOURCE / "tests" / "data" / "solver" / "priority.Packages").read_bytes()]
    if name == "control":
        out = from_debs(testdata, "control.tar", lambda p: p.endswith("/control"))
        for f in sorted(deb.rglob("Packages")) + sorted(deb.rglob("*Release")):
            out += paragraphs(f.read_bytes())[:50]
        return out
    if name == "deb":
        return [f.read_bytes() for f in deb_files(testdata)]
    if name == "apkindex":
        alpine = testdata / "alpine"
        small = [alpine / "v3.19" / "iso-repo" / "x86_64" / "APKINDEX.tar.gz",
                 alpine / "apko-testrepo" / "x86_64" / "APKINDEX.tar.gz",
                 alpine / "variants" / "rsa256-signed" / "APKINDEX.tar.gz"]
        out = [f.read_bytes() for f in small]
        out += [apkindex_text(f) for f in small]
        main = apkindex_text(alpine / "v3.19" / "main" / "x86_64" / "APKINDEX.tar.gz")
        out += [b"\n\n".join(main.split(b"\n\n")[:20]) + b"\n\n"]
        return out
    if name == "apk":
        # The small packages of the Alpine fixtures (the big ones only slow each run down).
        apks = sorted((testdata / "alpine").rglob("*.apk"))
        return [f.read_bytes() for f in apks if f.stat().st_size <= 64 << 10]
    if name == "runtime":
        settings = {"user": "65532:65532", "read_only": True, "tmpfs": ["/tmp", "/var/cache/a"],
                    "capabilities": ["CAP_NET_BIND_SERVICE"], "no_new_privileges": True,
                    "allowed_syscalls": ["ptrace"]}
        return [b"\0" + json.dumps(settings).encode(), b"\0{\"user\": \"0:0\"}",
                b"\1\x7fELF\0\0[\0[[\0ash\0cat\0ls\0sh\0\0data"]
    raise SystemExit(f"no seeds defined for fuzz target {name!r}")


def main():
    binary, name, seconds, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    testdata = dt.testdata()
    shutil.rmtree(work, ignore_errors=True)
    corpus, seed_dir, artifacts = work / "corpus", work / "seeds", work / "artifacts"
    for d in (corpus, seed_dir, artifacts):
        d.mkdir(parents=True)
    inputs = seeds(name, testdata)
    if not inputs:
        dt.skip_or_fail(f"no seed inputs for {name} in {testdata}")
    for i, data in enumerate(inputs):
        (seed_dir / f"seed-{i:04}").write_bytes(data)
    regressions = SOURCE / "tests" / "fuzz" / "regressions" / name
    found = sorted(regressions.glob("*")) if regressions.is_dir() else []

    options = [f"-timeout={TIMEOUT_SECONDS}", f"-rss_limit_mb={RSS_LIMIT_MB}",
               f"-artifact_prefix={artifacts}/", "-print_final_stats=1"]
    # Every input that ever crashed or hung the target runs first, on its own.
    if found:
        replay = subprocess.run([binary, *options, *map(str, found)], capture_output=True,
                                text=True)
        if replay.returncode != 0:
            print(replay.stderr[-8000:], file=sys.stderr)
            print(f"FAIL: a regression input of {regressions} fails again", file=sys.stderr)
            return 1
        print(f"{name}: {len(found)} regression inputs pass")

    command = [binary, *options, f"-max_total_time={seconds}", str(corpus), str(seed_dir)]
    if found:
        command.append(str(regressions))
    print("$ " + " ".join(command), flush=True)
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 600)
    log = result.stderr
    (work / "fuzz.log").write_text(log)
    stats = dict(re.findall(r"^stat::(\w+):\s+(\d+)", log, re.MULTILINE))
    cov = re.findall(r"\bcov: (\d+)", log)
    print(f"{name}: {stats.get('number_of_executed_units', '?')} executions in "
          f"{stats.get('slowest_unit_time_sec', '?')} s slowest unit, coverage "
          f"{cov[-1] if cov else '?'}, {len(inputs)} seeds, corpus now "
          f"{len(list(corpus.iterdir()))} new inputs, peak RSS {stats.get('peak_rss_mb', '?')} MB")
    saved = sorted(artifacts.iterdir())
    if result.returncode != 0 or saved:
        print(log[-12000:], file=sys.stderr)
        for path in saved:
            print(f"FAIL: {name} saved {path}: fix the bug, then commit the input as "
                  f"tests/fuzz/regressions/{name}/{path.name}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
