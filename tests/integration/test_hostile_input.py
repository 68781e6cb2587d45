"""Integration: outside fields never name a path, and the image's package database cannot be
made to lie. A signed repository of crafted packages (and edited locks) served on 127.0.0.1:
names and versions that climb out of the cache, file names with newlines, two control
paragraphs, smuggled .deb members, control data that disagrees with the index."""

import json
import os
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
import distill_test as dt  # noqa: E402


def tree(root, skip=()):
    """Every path under `root` (relative), except those under the directories in `skip`."""
    root = Path(root)
    paths = set()
    for directory, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if Path(directory, d) not in skip]
        for name in dirs + files:
            paths.add(str(Path(directory, name).relative_to(root)))
    return paths


class HostileInput(dt.TestCase):
    def setUp(self):
        super().setUp()
        self.local = dt.LocalRepo(self.scratch / "repo")
        self.project = self.scratch / "project"
        self.project.mkdir()
        self.output = self.scratch / "out" / "image"
        self.hello, self.lib = dt.hello_and_library(self.local.pool)

    def publish(self, stanzas):
        """Publishes the index of `stanzas` (Packages fields, `_file` the .deb) as it is."""
        return dt.write_repo(self.local.root, "bookworm", {"main": stanzas}, self.local.key)

    def manifest(self, url, packages=("hello",)):
        return dt.write_manifest(self.project / "image.yaml", "hello",
                                 [{"url": url, "keyring": self.local.key.keyring}],
                                 list(packages))

    def build(self, manifest, check=None):
        return self.distill("build", "-o", self.output, manifest, check=check)

    def outside(self):
        """What exists in the scratch directory outside the cache, the output and the repo
        (and the lock, which a successful build writes)."""
        return tree(self.scratch, skip={self.cache, self.scratch / "out",
                                        self.scratch / "repo"}) - {"project/image.lock"}

    def assert_refused(self, result, exit_code, *fragments):
        """Nothing was written outside the cache and no image holds a `..` entry or a name
        with a newline; the build failed with `exit_code` and said `fragments`."""
        self.assertEqual(self.outside() - self.before, set(),
                         "a file was written outside the cache")
        if (self.output / "index.json").exists():
            _, _, layer = dt.image_files(self.output)
            members, _ = dt.layer_members(layer)
            names = [m.name for m, _ in members]
            self.assertEqual([n for n in names if ".." in n.split("/") or "\n" in n], [],
                             "the image holds `..` entries or names with a newline")
        self.assertEqual(result.returncode, exit_code,
                         f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}")
        for fragment in fragments:
            self.assertIn(fragment, result.stderr)

    # --- fields of a signed index --------------------------------------------------------

    def build_with_index(self, edit):
        """Publishes hello and libhello1 with their index stanzas changed by `edit` (which gets
        both as dicts) and builds."""
        hello = dt.package_fields(self.hello, self.local.root)
        lib = dt.package_fields(self.lib, self.local.root)
        edit(hello, lib)
        self.publish([hello, lib])
        with dt.Server(self.local.root) as server:
            manifest = self.manifest(server.url)
            self.before = self.outside()
            return self.build(manifest)

    def test_a_package_name_that_climbs_out_of_the_cache_is_refused(self):
        def edit(hello, lib):
            hello["Depends"] = lib["Package"] = "../../../escaped-name"
        result = self.build_with_index(edit)
        self.assert_refused(result, 4, "/Packages", "line ", "Package `../../../escaped-name`")

    def test_a_version_that_climbs_out_of_the_cache_is_refused(self):
        result = self.build_with_index(
            lambda hello, lib: lib.update(Version="1/../../../../escaped-version"))
        self.assert_refused(result, 4, "/Packages", "line ",
                            "Version `1/../../../../escaped-version`")

    def test_a_filename_out_of_the_repository_or_a_bad_hash_is_refused(self):
        for field, value in (("Filename", "../../../etc/passwd"),
                             ("Filename", "http://127.0.0.2/x.deb"),
                             ("SHA256", "../../x"), ("Size", "12abc")):
            with self.subTest(field=field, value=value):
                result = self.build_with_index(lambda hello, lib: lib.update({field: value}))
                self.assert_refused(result, 4, "/Packages", f"{field} `{value}`")

    # --- fields of a lock ----------------------------------------------------------------

    def locked_build_with(self, edit):
        """Builds once (writing the lock), edits the lock's libhello1 entry with `edit`, and
        builds again from it."""
        self.publish([dt.package_fields(self.hello, self.local.root),
                      dt.package_fields(self.lib, self.local.root)])
        with dt.Server(self.local.root) as server:
            manifest = self.manifest(server.url)
            self.build(manifest, check=0)
            lock_path = self.project / "image.lock"
            lock = json.loads(lock_path.read_text())
            for package in lock["archs"][0]["packages"]:
                if package["name"] == "libhello1":
                    edit(package)
            lock_path.write_text(json.dumps(lock, indent=2))
            self.before = self.outside()
            return self.build(manifest)

    def test_a_locked_name_that_climbs_out_of_the_cache_is_refused(self):
        def edit(package):
            package["name"] = "../../../escaped-lock-name"
        result = self.locked_build_with(edit)
        self.assert_refused(result, 1, "image.lock", "architecture amd64, package 2",
                            "Package `../../../escaped-lock-name`")

    def test_a_locked_version_that_climbs_out_of_the_cache_is_refused(self):
        def edit(package):
            package["version"] = "1/../../../../escaped-lock-version"
        result = self.locked_build_with(edit)
        self.assert_refused(result, 1, "image.lock", "architecture amd64, package 2",
                            "Version `1/../../../../escaped-lock-version`")

    # --- packages that would make the package database lie -------------------------------

    def build_with_lib(self, lib, version="1.0-1"):
        """Publishes hello with `lib` as its libhello1 (`version`) and builds."""
        fields = dt.package_fields(lib, self.local.root)
        # The index is honest; what dpkg-deb --field makes of a crafted control file is not.
        fields.update({"Package": "libhello1", "Version": version})
        self.publish([dt.package_fields(self.hello, self.local.root), fields])
        with dt.Server(self.local.root) as server:
            manifest = self.manifest(server.url)
            self.before = self.outside()
            return self.build(manifest)

    def test_a_file_name_with_a_newline_is_refused(self):
        lib = dt.craft_deb(self.local.pool, "libhello1", [
            dt.tar_info("./", tarfile.DIRTYPE, 0o755),
            dt.tar_info("./usr/", tarfile.DIRTYPE, 0o755),
            dt.tar_info("./usr/lib/", tarfile.DIRTYPE, 0o755),
            (dt.tar_info("./usr/lib/libhello.so.1\n/usr/bin/sh"), b"\x7fELF libhello"),
        ])
        result = self.build_with_lib(lib)
        self.assert_refused(result, 7, "libhello1 1.0-1: data.tar: the name",
                            "libhello.so.1\\n/usr/bin/sh", "control character")

    def lib_files(self):
        return [dt.tar_info("./", tarfile.DIRTYPE, 0o755),
                dt.tar_info("./usr/", tarfile.DIRTYPE, 0o755),
                (dt.tar_info("./usr/libhello.so.1"), b"\x7fELF libhello")]

    def test_two_control_paragraphs_are_refused(self):
        fake = dt.control_text("libhello1") + "\n" + dt.control_text("openssl", "9.9.9-1")
        lib = dt.craft_deb(self.local.pool, "libhello1", self.lib_files(), control=fake)
        result = self.build_with_lib(lib)
        self.assert_refused(result, 7, "libhello1 1.0-1: the control file holds 2 paragraphs")

    def test_two_control_members_are_refused(self):
        second = ("control.tar.gz", dt.control_tar(dt.control_text("openssl", "9.9.9-1")))
        lib = dt.craft_deb(self.local.pool, "libhello1", self.lib_files(),
                           layout=lambda m: [m[0], m[1], second, m[2]])
        result = self.build_with_lib(lib)
        self.assert_refused(result, 7, "libhello1 1.0-1: member `control.tar.gz` is not allowed "
                                       "between the control and the data members")

    def test_a_second_data_member_is_refused(self):
        hidden = dt.tar_bytes([(dt.tar_info("./usr/bin/sh", mode=0o755), b"#!hidden shell")])
        lib = dt.craft_deb(self.local.pool, "libhello1", self.lib_files(),
                           layout=lambda m: [*m, ("data.tar", hidden)])
        result = self.build_with_lib(lib)
        self.assert_refused(result, 7, "libhello1 1.0-1: member `data.tar` is not allowed after "
                                       "the data member")

    def test_an_unknown_member_is_refused_and_an_underscore_member_ignored(self):
        lib = dt.craft_deb(self.local.pool, "libhello1", self.lib_files(),
                           layout=lambda m: [m[0], ("_extra", b"x"), m[1], m[2]])
        self.build_with_lib(lib)
        self.assertTrue((self.output / "index.json").exists())
        lib = dt.craft_deb(self.local.pool, "libhello1", self.lib_files(), version="1.0-2",
                           layout=lambda m: [m[0], m[1], ("evil.tar", b"x"), m[2]])
        result = self.build_with_lib(lib, "1.0-2")
        self.assertEqual(result.returncode, 7, result.stderr)
        self.assertIn("member `evil.tar` is not allowed", result.stderr)

    def test_control_data_that_disagrees_with_the_index_is_refused(self):
        for field, value, own in (("Version", "1.0-9", "1.0-1"),
                                  ("Package", "libhello2", "libhello1")):
            with self.subTest(field=field):
                def edit(hello, lib):
                    lib[field] = value
                    if field == "Package":
                        hello["Depends"] = value
                result = self.build_with_index(edit)
                self.assert_refused(result, 4, f"control file says {field} `{own}`",
                                    f"says `{value}`")

    def test_architecture_all_fits_any_arch_and_a_good_build_still_works(self):
        lib = dt.build_deb(self.local.pool, "libhello1", {"/usr/share/hello/data": b"x"},
                           arch="all")
        result = self.build_with_lib(lib)
        self.assertEqual(result.returncode, 0, result.stderr)
        _, _, layer = dt.image_files(self.output)
        names = [m.name for m, _ in dt.layer_members(layer)[0]]
        self.assertIn("var/lib/dpkg/info/libhello1.list", names)


if __name__ == "__main__":
    dt.main()
