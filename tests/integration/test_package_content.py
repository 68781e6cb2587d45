"""Integration: what a package holds is judged after the path policy, and read in full.

A hard link between two files the path policy drops is no escape: both go; a kept link to a
dropped file keeps its content. A file name that is not UTF-8 and a `conffiles` line that names
no file are errors naming the package, not library messages, and leave nothing in the cache.
A sparse file, which dpkg does not unpack and whose map can promise more data than the archive
holds (libarchive fills the rest with zeros), is refused.
"""

import gzip
import lzma
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
import distill_test as dt  # noqa: E402


def short_sparse_tar(path, data, promised):
    """An uncompressed tar of one old-GNU sparse file (type S) at `path`: its map says `promised`
    bytes of data at offset 0, its member holds only `data`."""
    header = bytearray(dt.tar_bytes([(dt.tar_info(path), data)])[:512])
    header[156:157] = b"S"
    header[386:398] = b"%011o\0" % 0  # sparse[0].offset
    header[398:410] = b"%011o\0" % promised  # sparse[0].numbytes
    header[482] = 0  # no extension headers
    header[483:495] = b"%011o\0" % promised  # realsize
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header)
    padding = b"\0" * (-len(data) % 512)
    return bytes(header) + data + padding + b"\0" * 1024


class PackageContent(dt.TestCase):
    def setUp(self):
        super().setUp()
        self.local = dt.LocalRepo(self.scratch)
        self.output = self.scratch / "out" / "image"

    def build(self, deb, check):
        self.local.publish([deb])
        with dt.Server(self.local.root) as server:
            manifest = dt.write_manifest(self.scratch / "image.yaml", "content",
                                         [self.local.source(server.url)], [deb.name.split("_")[0]])
            return self.distill("build", "--json", "-o", self.output, manifest, check=check)

    def test_hard_links_are_judged_after_the_path_policy(self):
        doc = (dt.tar_info("./usr/share/doc/linked/notes"), b"notes\n")
        deb = dt.craft_deb(self.local.pool, "linked", [
            dt.tar_info("./usr/share/doc/linked", tarfile.DIRTYPE, 0o755),
            doc,
            dt.tar_info("./usr/share/doc/linked/notes.again", tarfile.LNKTYPE,
                        link="./usr/share/doc/linked/notes"),
            dt.tar_info("./usr/bin", tarfile.DIRTYPE, 0o755),
            dt.tar_info("./usr/bin/notes", tarfile.LNKTYPE, link="./usr/share/doc/linked/notes"),
        ])
        self.build(deb, 0)
        _, _, layer = dt.image_files(self.output)
        members, _ = dt.layer_members(layer)
        files = {member.name.lstrip("./"): (member, content) for member, content in members}
        self.assertNotIn("usr/share/doc/linked/notes", files)
        self.assertNotIn("usr/share/doc/linked/notes.again", files)
        member, content = files["usr/bin/notes"]
        self.assertTrue(member.isreg())
        self.assertEqual(content, b"notes\n")

    def test_a_file_name_that_is_not_utf8_is_an_error_naming_the_package(self):
        info = dt.tar_info("./usr/share/odd/caf\udce9")
        deb = dt.craft_deb(self.local.pool, "odd", [(info, b"x")])
        result = self.build(deb, 1)
        self.assertIn("odd 1.0-1: data.tar: `./usr/share/odd/caf\\xe9` is not a UTF-8 file name",
                      result.stderr)
        self.assertNotIn("json", result.stderr.lower())
        self.assertEqual(list((self.cache / "derived").rglob("*.pack")), [])

    def test_a_conffiles_line_that_names_no_file_is_an_error_naming_the_package(self):
        control = gzip.compress(dt.tar_bytes([
            (dt.tar_info("./control"), dt.control_text("conf").encode()),
            (dt.tar_info("./conffiles"), b"/\n")]), mtime=0)

        def layout(members):
            return [(name, control if name == "control.tar.gz" else payload)
                    for name, payload in members]
        deb = dt.craft_deb(self.local.pool, "conf", [
            dt.tar_info("./etc", tarfile.DIRTYPE, 0o755),
            (dt.tar_info("./etc/conf.conf"), b"x=1\n")], layout=layout)
        result = self.build(deb, None)
        self.assertNotEqual(result.returncode, 0, result.stderr)
        self.assertIn("conf 1.0-1", result.stderr)
        self.assertIn("conffiles", result.stderr)
        self.assertNotIn("filesystem error", result.stderr)
        self.assertNotIn("basic_string", result.stderr)
        # The package was read whole (its content is cached, with its index): nothing is left
        # half-written.
        for pack in (self.cache / "derived").rglob("*.pack"):
            self.assertTrue(pack.with_suffix(".json").is_file(), pack)
        self.assertFalse(self.output.exists())

    def test_a_sparse_file_is_refused(self):
        data_tar = short_sparse_tar("./usr/share/short/file", b"x" * 600, 100000)

        def layout(members):
            return [(name, lzma.compress(data_tar) if name == "data.tar.xz" else payload)
                    for name, payload in members]
        deb = dt.craft_deb(self.local.pool, "short", [], layout=layout)
        result = self.build(deb, 7)
        self.assertIn("short 1.0-1: data.tar: ./usr/share/short/file: a sparse file, which dpkg "
                      "does not unpack", result.stderr)
        self.assertFalse(self.output.exists())


if __name__ == "__main__":
    dt.main()
