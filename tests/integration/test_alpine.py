"""Integration: Alpine through the same pipeline as Debian, against the real Alpine data in
../shared/testdata/alpine served on 127.0.0.1.

The full v3.19 main and community indexes (23,030 packages, signed by Alpine) resolve Java and
Python; the ISO repository's 24 real packages build the stock manifests alpine-static.yaml and
alpine-base.yaml. Tampered copies (made here, in the scratch directory) are refused.
"""

import base64
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
import distill_test as dt  # noqa: E402


def alpine_data():
    data = dt.testdata("alpine")
    if not (data / "v3.19" / "main" / "x86_64" / "APKINDEX.tar.gz").is_file():
        dt.skip_or_fail(f"no Alpine test data in {data}")
    return data


def layer_files(layout):
    """Path -> bytes (None for what is not a regular file) of the image in an OCI layout."""
    _, _, layer = dt.image_files(layout)
    members, _ = dt.layer_members(layer)
    return {m.name.lstrip("./").rstrip("/"): content for m, content in members}


def gzip_members(data):
    """The byte ranges of the gzip members of an apk v2 file."""
    members = []
    start = 0
    while start < len(data):
        inflater = __import__("zlib").decompressobj(16 + 15)
        inflater.decompress(data[start:])
        end = len(data) - len(inflater.unused_data)
        members.append((start, end))
        start = end
    return members


def listed_paths(lines):
    """(kind, path, {key: value}) of a record's F: directories and R: files, with the M:, a:
    and Z: lines that follow each."""
    entries = []
    directory = ""
    for key, value in lines:
        if key == "F":
            directory = value
            entries.append(("F", value, {}))
        elif key == "R":
            entries.append(("R", f"{directory}/{value}" if directory else value, {}))
        elif key in "MaZ" and entries:
            entries[-1][2][key] = value
    return entries


def owner(member):
    """A tar member's owner and mode as apk's M: and a: lines write them."""
    return f"{member.uid}:{member.gid}:{member.mode:o}"


def apk_checksum(data):
    return "Q1" + base64.b64encode(hashlib.sha1(data).digest()).decode()


def apk_data_members(apk):
    """The (member, content) pairs of an apk v2 package's data: its gzip members (signature,
    control, data) form one tar stream; the data follows .PKGINFO and the scripts."""
    members = []
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(apk)), mode="r:") as archive:
        for member in archive:
            if member.name.startswith("."):
                continue
            content = archive.extractfile(member).read() if member.isreg() else None
            member.name = member.name.rstrip("/")
            members.append((member, content))
    return members


class Alpine(dt.TestCase):
    def setUp(self):
        super().setUp()
        self.data = alpine_data()
        self.keys = self.data / "keys"

    def manifest(self, url, packages=(), components=("iso-repo",), include=None, keyring=None,
                 name="alpine.yaml", arch="x86_64", extra=""):
        lines = []
        if include:
            lines.append(f"include: {dt.source_dir() / 'manifests' / include}")
        lines += ["name: alpine-test", "distro: alpine", "release: v3.19", f"archs: [{arch}]",
                  "sources:", f"  - url: {url}",
                  f"    components: [{', '.join(components)}]",
                  f"    keyring: {keyring or self.keys}"]
        if packages:
            lines.append("packages:")
            lines += [f"  - {p}" for p in packages]
        return self.write(name, "\n".join(lines) + "\n" + extra)

    def plan(self, manifest, check=0):
        result = self.distill("-v", "plan", "--json", manifest, check=check)
        return (json.loads(result.stdout), result) if check == 0 else (None, result)

    def build(self, manifest, out, *args, check=0, env=None):
        result = self.distill("build", "--json", "-o", out, *args, manifest, check=check,
                              env=env)
        return json.loads(result.stdout) if check == 0 else result

    # --- resolving on the full indexes ---------------------------------------------------

    def test_java_and_python_resolve_on_the_full_3_19_indexes(self):
        with dt.Server(self.data) as server:
            manifest = self.manifest(server.url, ["openjdk17-jre-headless", "python3"],
                                     components=("main", "community"))
            plan, result = self.plan(manifest)
            text = self.distill("plan", manifest, check=0).stdout
        packages = {p["name"]: p for p in plan["packages"]}
        for name in ("openjdk17-jre-headless", "python3", "musl", "java-cacerts", "libffi"):
            self.assertIn(name, packages)
        jre = packages["openjdk17-jre-headless"]
        self.assertEqual(jre["why"], ["openjdk17-jre-headless"])
        self.assertTrue(jre["url"].startswith(f"{server.url}/v3.19/community/x86_64/"
                                              "openjdk17-jre-headless-"), jre["url"])
        self.assertTrue(jre["url"].endswith(".apk"))
        self.assertTrue(jre["checksum"].startswith("Q1"), jre)
        self.assertEqual(packages["musl"]["suite"], "v3.19")
        self.assertEqual(packages["musl"]["why"][-1], "musl")
        # The policy keeps busybox and apk out, and says who wanted them.
        excluded = {e["name"] for e in plan["excluded"]}
        self.assertNotIn("busybox", packages)
        self.assertNotIn("apk-tools", packages)
        self.assertTrue(excluded <= {"busybox", "busybox-binsh", "apk-tools", "alpine-baselayout",
                                     "openrc"} or excluded, excluded)
        # Both indexes were checked against Alpine's x86_64 key.
        self.assertIn("signed by alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub",
                      result.stderr)
        # The text plan names the chains too.
        self.assertIn("libffi", text)
        self.assertIn("python3", text)

    def test_an_unknown_package_is_a_clear_error(self):
        with dt.Server(self.data) as server:
            manifest = self.manifest(server.url, ["no-such-package"])
            _, result = self.plan(manifest, check=None)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("no-such-package", result.stderr)

    # --- building the stock manifests ----------------------------------------------------

    def test_stock_manifests_build_from_the_real_packages(self):
        with dt.Server(self.data) as server:
            for stock, expected in (("alpine-static.yaml", {"musl", "ca-certificates-bundle",
                                                            "alpine-baselayout-data",
                                                            "alpine-release"}),
                                    ("alpine-base.yaml", {"libcrypto3", "libssl3", "zlib"})):
                manifest = self.manifest(server.url, include=stock, name=f"my-{stock}")
                out = self.scratch / stock
                report = self.build(manifest, out)
                files = layer_files(out)
                names = {p["name"] for p in report["packages"]} if "packages" in report else None
                if names is not None:
                    self.assertTrue(expected <= names, names)
                self.assertIn("lib/ld-musl-x86_64.so.1", files)
                self.assertIn("etc/ssl/certs/ca-certificates.crt", files)
                self.assertIn("etc/alpine-release", files)
                os_release = files["etc/os-release"].decode() if "etc/os-release" in files else \
                    files["usr/lib/os-release"].decode()
                self.assertIn("ID=alpine", os_release)
                self.assertIn("VERSION_ID=3.19", os_release)
                installed = files["lib/apk/db/installed"].decode()
                self.assertIn("P:musl\n", installed)
                self.assertIn("R:ld-musl-x86_64.so.1\n", installed)
                # No shell, no busybox, no apk.
                for path in ("bin/sh", "bin/busybox", "sbin/apk"):
                    self.assertNotIn(path, files)
                self.assertIn("nonroot:x:65532:65532", files["etc/passwd"].decode())

    def test_installed_database_matches_the_image_and_the_packages(self):
        """What a scanner (or apk itself) reads from lib/apk/db/installed holds for the image:
        every package of the plan with its version and checksum, every F: directory and R: file
        in the layer with the owner, mode and Z: checksum listed, and every file the image has
        from a package listed under that package."""
        repo = self.data / "v3.19" / "iso-repo" / "x86_64"
        with dt.Server(self.data) as server:
            for stock in ("alpine-static.yaml", "alpine-base.yaml"):
                with self.subTest(stock):
                    manifest = self.manifest(server.url, include=stock, name=f"db-{stock}")
                    plan, _ = self.plan(manifest)
                    out = self.scratch / f"out-db-{Path(stock).stem}"
                    report = self.build(manifest, out)
                    members, _ = dt.layer_members(dt.image_files(out)[2])
                    image = {m.name.lstrip("./").rstrip("/"): (m, content)
                             for m, content in members}
                    records = dt.apk_installed(image["lib/apk/db/installed"][1].decode())
                    planned = {p["name"]: p for p in plan["packages"]}
                    self.assertEqual(sorted(records), sorted(planned))
                    self.assertEqual(len(records), report["archs"][0]["packages"])
                    listed = {}  # path -> package
                    for name, lines in records.items():
                        fields = dict(line for line in lines if line[0] in "CVA")
                        self.assertEqual((fields["V"], fields["C"]),
                                         (planned[name]["version"], planned[name]["checksum"]))
                        self.assertEqual(fields["A"], "x86_64")
                        self.check_listed_paths(name, lines, image, listed)
                    # Every file of the image that is the one a package shipped is listed,
                    # under that package; the rest are distill's own.
                    shipped = {}  # path -> [(package, member, content)]
                    for name, package in planned.items():
                        apk = repo / package["url"].rsplit("/", 1)[1]
                        for member, content in apk_data_members(apk.read_bytes()):
                            shipped.setdefault(member.name, []).append((name, member, content))
                    unlisted = set()
                    for path, (member, content) in image.items():
                        if member.isdir() or path not in shipped:
                            continue
                        same = [name for name, m, c in shipped[path]
                                if (m.type, m.linkname, c) == (member.type, member.linkname,
                                                               content)]
                        if same:
                            self.assertIn(listed.get(path), same, path)
                        else:
                            unlisted.add(path)
                            self.assertNotIn(path, listed)
                    # The accounts: distill writes passwd and group (root, nobody, nonroot).
                    self.assertEqual(unlisted, {"etc/passwd", "etc/group"})
                    own = {p for p, (m, _) in image.items() if not m.isdir() and p not in shipped}
                    # The keyring's keys, but those a package (alpine-keys) ships itself.
                    keys = {f"etc/apk/keys/{key.name}"
                            for key in self.keys.iterdir()} - set(shipped)
                    self.assertEqual(own, {"lib/apk/db/installed", "etc/apk/world",
                                           "etc/apk/repositories"} | keys)
                    # apk's configuration as the packages came: the repository and its keys.
                    self.assertEqual(image["etc/apk/repositories"][1].decode(),
                                     f"{server.url}/v3.19/iso-repo\n")
                    for key in self.keys.iterdir():
                        self.assertEqual(image[f"etc/apk/keys/{key.name}"][1],
                                         key.read_bytes())

    def check_listed_paths(self, package, lines, image, listed):
        """The F:, M:, R:, a: and Z: lines of one package's record against the layer."""
        for kind, path, attrs in listed_paths(lines):
            self.assertIn(path, image, f"{package}: {kind}:{path}")
            member, content = image[path]
            if kind == "F":
                self.assertTrue(member.isdir(), f"{package}: F:{path}")
                self.assertLessEqual(set(attrs), {"M"}, f"{package}: F:{path}")
                self.assertEqual(attrs.get("M", "0:0:755"), owner(member), f"{package}: {path}")
                continue
            self.assertFalse(member.isdir(), f"{package}: R:{path}")
            self.assertNotIn(path, listed, f"{package}: {path} listed twice")
            listed[path] = package
            self.assertEqual(set(attrs) - {"a"}, {"Z"}, f"{package}: R:{path}")
            self.assertEqual(attrs.get("a", "0:0:777" if member.issym() else "0:0:644"),
                             owner(member), f"{package}: {path}")
            data = member.linkname.encode() if member.issym() else content
            self.assertEqual(attrs["Z"], apk_checksum(data), f"{package}: {path}")

    def test_same_digest_whatever_the_cache_clock_zone_umask_and_jobs(self):
        with dt.Server(self.data) as server:
            manifest = self.manifest(server.url, include="alpine-base.yaml")
            digests = dt.digests_under_perturbations(self.scratch, manifest)
        self.assertEqual(len(digests), 1, digests)

    def test_lock_frozen_and_verify(self):
        with dt.Server(self.data) as server:
            manifest = self.manifest(server.url, include="alpine-static.yaml")
            self.distill("lock", manifest, check=0)
            lock = json.loads(manifest.with_suffix(".lock").read_text())
            packages = {p["name"]: p for p in lock["archs"][0]["packages"]}
            self.assertTrue(packages["musl"]["checksum"].startswith("Q1"))
            first = self.build(manifest, self.scratch / "a", "--frozen")
            self.distill("verify", self.scratch / "a", manifest, check=0)
            # A lock edited to another package's checksum is refused (the index vouches for
            # none of it).
            packages["musl"]["checksum"] = packages["alpine-release"]["checksum"]
            manifest.with_suffix(".lock").write_text(json.dumps(lock))
            result = self.build(manifest, self.scratch / "b", "--frozen", check=None)
            self.assertEqual(result.returncode, 4, result.stderr)
            self.assertIn("its checksum or size of musl", result.stderr)
            self.assertTrue(first["digest"].startswith("sha256:"))

    def test_diff_of_two_locks_lists_the_upgrade_and_says_there_is_no_changelog(self):
        with dt.Server(self.data) as server:
            manifest = self.manifest(server.url, include="alpine-base.yaml")
            self.distill("lock", manifest, check=0)
        newer = manifest.with_suffix(".lock")
        lock = json.loads(newer.read_text())
        for package in lock["archs"][0]["packages"]:
            if package["name"] == "zlib":
                package["version"] = "1.3-r2"
        older = self.write("older.lock", json.dumps(lock))
        result = self.distill("diff", "--json", older, newer, check=0)
        diff = json.loads(result.stdout)
        text = self.distill("diff", older, newer, check=0).stdout
        self.assertIn("zlib 1.3-r2 → 1.3.1-r0", text)
        self.assertIn("Alpine packages carry no changelog", text)
        self.assertIn("zlib", json.dumps(diff))

    # --- apk's request syntax ---------------------------------------------------------------

    def test_requests_take_relations_provided_names_and_pinned_repositories(self):
        """`name>=V`, `name~V`, `cmd:`/`so:` names and `name@tag` from a source with a `tag`,
        on the real v3.19 indexes: main is pinned (tag `main319`), the ISO repository is not."""
        extra = "\n".join(["  - url: {url}", "    components: [main]", "    tag: main319",
                           f"    keyring: {self.keys}", ""])
        with dt.Server(self.data) as server:
            def manifest(packages, name):
                path = self.manifest(server.url, packages, name=name)
                # A second source: the same mirror's main, pinned.
                text = path.read_text().replace("packages:", extra.format(url=server.url) +
                                                "packages:")
                path.write_text(text)
                return path

            ok = manifest(["musl>=1.2", "zlib~1.3", "cmd:busybox", "python3@main319"], "ok.yaml")
            plan, _ = self.plan(ok)
            packages = {p["name"]: p for p in plan["packages"]}
            self.assertEqual(packages["musl"]["version"], "1.2.4_git20230717-r4")
            self.assertEqual(packages["zlib"]["version"], "1.3.1-r0")
            # cmd:busybox is provided by busybox (a versioned provide); asking for it by what it
            # provides lets it in.
            self.assertIn("busybox", packages)
            # python3 comes from the pinned main, what it needs from the untagged ISO
            # repository where that has it (musl, libffi), else from main (mpdecimal).
            self.assertIn("/v3.19/main/x86_64/python3-", packages["python3"]["url"])
            self.assertIn("/v3.19/iso-repo/x86_64/", packages["musl"]["url"])
            self.assertIn("/v3.19/iso-repo/x86_64/", packages["libffi"]["url"])
            self.assertIn("/v3.19/main/x86_64/", packages["mpdecimal"]["url"])

            # Without its tag, a package only the pinned repository has is refused, with how
            # to ask for it.
            _, result = self.plan(manifest(["python3"], "untagged.yaml"), check=None)
            self.assertEqual(result.returncode, 6, result.stderr)
            self.assertIn("python3 is only in the pinned repositories @main319", result.stderr)
            self.assertIn("python3@TAG", result.stderr)
            # A relation nothing satisfies lists what there is.
            _, result = self.plan(manifest(["zlib>2"], "none.yaml"), check=None)
            self.assertEqual(result.returncode, 6, result.stderr)
            self.assertIn("no version of zlib satisfies zlib>2; available: 1.3.1-r0",
                          result.stderr)
            # A tag no source has, and a relation apk does not have, are manifest errors.
            _, result = self.plan(manifest(["zlib@edge"], "tag.yaml"), check=None)
            self.assertEqual(result.returncode, 3, result.stderr)
            self.assertIn("no source has `tag: edge`", result.stderr)
            _, result = self.plan(manifest(["zlib><Q1abc"], "op.yaml"), check=None)
            self.assertEqual(result.returncode, 3, result.stderr)
            self.assertIn("is not a version relation of apk", result.stderr)

    # --- what scanners and the install scripts would have -------------------------------------

    def test_busybox_asked_for_gets_its_applet_links(self):
        """busybox's post-install runs `busybox --install -s`; distill makes the links its
        package lists in /etc/busybox-paths.d/busybox, and only when busybox is asked for."""
        with dt.Server(self.data) as server:
            manifest = self.manifest(server.url, ["busybox"], name="debug.yaml")
            out = self.scratch / "debug"
            self.build(manifest, out)
        members, _ = dt.layer_members(dt.image_files(out)[2])
        image = {m.name.lstrip("./").rstrip("/"): m for m, _ in members}
        listed = [name for name in layer_files(out)["etc/busybox-paths.d/busybox"].decode()
                  .splitlines() if name]
        self.assertEqual(len(listed), 304)
        links = [path for path in listed if image[path].issym()]
        self.assertGreater(len(links), 290)
        for path in links:
            self.assertEqual(image[path].linkname, "/bin/busybox", path)
        self.assertEqual(image["bin/sh"].linkname, "/bin/busybox")
        self.assertTrue(image["bin/busybox"].isreg())
        # The links are in the package database too? No: apk's trigger makes them outside any
        # package, and apk lists only what packages ship.
        installed = layer_files(out)["lib/apk/db/installed"].decode()
        self.assertNotIn("R:sh\n", installed)

    def test_what_scanners_read(self):
        """The rules Trivy, Syft and Grype apply to an Alpine image (from their sources: Trivy
        identifies Alpine by etc/alpine-release or an os-release with ID=alpine and VERSION_ID;
        Syft and Grype by os-release only; all read lib/apk/db/installed record by record),
        checked on the stock images and on one without the alpine-release package."""
        version = re.compile(r"^[0-9]+(\.[0-9]+)*[a-z]?(_(alpha|beta|pre|rc|cvs|svn|git|hg|p)"
                             r"[0-9]*)*(-r[0-9]+)?$")
        with dt.Server(self.data) as server:
            cases = [(self.manifest(server.url, include=stock, name=f"scan-{stock}"), stock)
                     for stock in ("alpine-static.yaml", "alpine-base.yaml")]
            cases.append((self.manifest(server.url, ["musl"], name="scan-musl.yaml"), "musl"))
            for manifest, label in cases:
                with self.subTest(label):
                    out = self.scratch / f"scan-out-{label}"
                    plan, _ = self.plan(manifest)
                    self.build(manifest, out)
                    files = layer_files(out)
                    os_release = files.get("etc/os-release") or files["usr/lib/os-release"]
                    fields = dict(line.split("=", 1) for line in os_release.decode().splitlines()
                                  if "=" in line)
                    fields = {k: v.strip('"') for k, v in fields.items()}
                    self.assertEqual(fields["ID"], "alpine")
                    self.assertTrue(fields["VERSION_ID"].startswith("3.19"), fields)
                    release = files["etc/alpine-release"].decode().splitlines()[0]
                    self.assertEqual(release, fields["VERSION_ID"])
                    text = files["lib/apk/db/installed"].decode()
                    self.assertTrue(text.endswith("\n\n"), text[-40:])
                    records = text[:-2].split("\n\n")
                    names = []
                    for record in records:
                        lines = record.split("\n")
                        self.assertTrue(all(len(line) < 65536 and line[1:2] == ":"
                                            for line in lines), record[:200])
                        keys = [line[0] for line in lines]
                        values = {line[0]: line[2:] for line in lines}
                        for key in "PVAo":
                            self.assertIn(key, keys, record[:200])
                        self.assertRegex(values["V"], version)
                        self.assertGreater(keys.index("o"), keys.index("V"))
                        last = None
                        for key in keys:
                            if key == "M":
                                self.assertEqual(last, "F", values["P"])
                            if key in "aZ":
                                self.assertIn(last, ("R", "a", "Z"), values["P"])
                            if key in "FRMaZ":
                                last = key
                        names.append(values["P"])
                    # Every package of the plan, once.
                    self.assertEqual(sorted(names), sorted(p["name"] for p in plan["packages"]))
                    self.assertEqual(len(set(names)), len(names))

    # --- refusals --------------------------------------------------------------------------

    def copy_repo(self):
        root = self.scratch / "mirror"
        shutil.copytree(self.data / "v3.19" / "iso-repo", root / "v3.19" / "iso-repo")
        return root

    def test_a_tampered_apk_is_refused(self):
        root = self.copy_repo()
        apk = root / "v3.19" / "iso-repo" / "x86_64" / "zlib-1.3.1-r0.apk"
        data = bytearray(apk.read_bytes())
        # A new time in the control member's gzip header: the same size and the same
        # content, a valid package, but not the one the index names.
        (_, _), (control_start, _), _ = gzip_members(bytes(data))
        data[control_start + 4:control_start + 8] = b"\x01\x02\x03\x04"
        apk.write_bytes(bytes(data))
        with dt.Server(root) as server:
            manifest = self.manifest(server.url, ["zlib"])
            result = self.build(manifest, self.scratch / "out", check=None)
        self.assertEqual(result.returncode, 4, result.stderr)
        self.assertIn("zlib", result.stderr)
        self.assertIn("Q11mV5+Yq5WHkhWIJP27rBrg7izKg=", result.stderr)
        self.assertFalse((self.scratch / "out").exists())

    def test_a_tampered_index_is_refused(self):
        root = self.copy_repo()
        index = root / "v3.19" / "iso-repo" / "x86_64" / "APKINDEX.tar.gz"
        data = bytearray(index.read_bytes())
        (_, _), (start, end) = gzip_members(bytes(data))
        text = gzip.decompress(bytes(data[start:end]))
        index.write_bytes(bytes(data[:start]) + gzip.compress(text.replace(b"zlib", b"zlub")))
        with dt.Server(root) as server:
            manifest = self.manifest(server.url, ["musl"])
            _, result = self.plan(manifest, check=None)
        self.assertEqual(result.returncode, 4, result.stderr)
        self.assertIn("APKINDEX.tar.gz", result.stderr)

    def test_an_index_signed_by_a_key_not_in_the_keyring_is_refused(self):
        keyring = self.scratch / "keys"
        keyring.mkdir()
        shutil.copy(self.keys / "alpine-devel@lists.alpinelinux.org-616ae350.rsa.pub", keyring)
        with dt.Server(self.data) as server:
            manifest = self.manifest(server.url, ["musl"], keyring=keyring)
            _, result = self.plan(manifest, check=None)
        self.assertEqual(result.returncode, 4, result.stderr)
        self.assertIn("6165ee59", result.stderr)

    def test_an_older_index_after_a_newer_one_is_a_rollback(self):
        """A mirror that serves an older, still validly signed index after a newer one: the
        time the index was made (in its signed tar header) went back, and it is refused; the
        cache keeps the newer copy."""
        root = self.scratch / "mirror"
        index = root / "v3.19" / "main" / "x86_64" / "APKINDEX.tar.gz"
        index.parent.mkdir(parents=True)
        shutil.copy(self.data / "v3.19" / "main" / "x86_64" / "APKINDEX.tar.gz", index)
        with dt.Server(root) as server:
            manifest = self.manifest(server.url, ["musl"], components=("main",))
            self.plan(manifest)
            # Alpine's 3.16 main index, signed by the same key, made in 2022.
            shutil.copy(self.data / "v3.16" / "main" / "x86_64" / "APKINDEX.tar.gz", index)
            # Served as changed (the server's validators go by the file's time).
            later = index.stat().st_mtime + 60
            os.utime(index, (later, later))
            _, result = self.plan(manifest, check=None)
            self.assertEqual(result.returncode, 4, result.stderr)
            self.assertIn("made 2022-11-21", result.stderr)
            self.assertIn("older than the 2024-06-18", result.stderr)
            self.assertIn("refusing a rollback", result.stderr)
            # The newer copy is still the one the cache holds.
            shutil.copy(self.data / "v3.19" / "main" / "x86_64" / "APKINDEX.tar.gz", index)
            os.utime(index, (later + 60, later + 60))
            plan, _ = self.plan(manifest)
            self.assertIn("musl", {p["name"] for p in plan["packages"]})

    def test_a_package_the_mirror_lacks_is_a_clear_error(self):
        root = self.copy_repo()
        (root / "v3.19" / "iso-repo" / "x86_64" / "zlib-1.3.1-r0.apk").unlink()
        with dt.Server(root) as server:
            manifest = self.manifest(server.url, ["zlib"])
            result = self.build(manifest, self.scratch / "out", check=None)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("zlib-1.3.1-r0.apk", result.stderr)
        self.assertIn("404", result.stderr)

    def test_the_rsa256_signed_variant_verifies_with_its_own_key(self):
        root = self.scratch / "variant"
        target = root / "v3.16" / "main" / "aarch64"
        target.mkdir(parents=True)
        for f in (self.data / "variants" / "rsa256-signed").glob("*"):
            shutil.copy(f, target)
        key = target / "test-rsa256.rsa.pub"
        with dt.Server(root) as server:
            manifest = self.write("variant.yaml", "\n".join([
                "name: variant", "distro: alpine", "release: v3.16", "archs: [aarch64]",
                "sources:", f"  - url: {server.url}", "    components: [main]",
                f"    keyring: {key}", "packages: [alpine-baselayout]", ""]))
            _, result = self.plan(manifest, check=None)
        # The index verifies with its RSA256 key; its one package needs what it does not hold.
        self.assertIn("verified (signed by test-rsa256.rsa.pub, RSA256)", result.stderr)
        self.assertEqual(result.returncode, 6, result.stderr)
        self.assertIn("alpine-baselayout-data (= 3.2.0-r23), which no source provides",
                      result.stderr)


if __name__ == "__main__":
    dt.main()
