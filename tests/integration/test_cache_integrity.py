"""Integration: nothing from the cache enters an image unless it was checked in this run.

A package file in the cache is hashed again while it is unpacked; the content pack made from
it is only used through an index whose own digest checks out, and its files are hashed again
as the layer is written. A damaged entry is dropped and made again from a package fetched
again, with a warning: the image is the one an intact cache gives, or the build fails.
"""

import io
import json
import shutil
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
import distill_test as dt  # noqa: E402

RIGHT = b"the right bytes\n" * 64
WRONG = b"the wrong bytes\n"


def plain_deb(work, name, files):
    """A .deb whose data.tar is not compressed: a flipped byte in it is no decompression error,
    only different content."""
    def tar(entries):
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
            for path, (data, mode) in entries.items():
                info = dt.tar_info(path, mode=mode)
                info.mtime = dt.FIXED_TIME
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
        return buffer.getvalue()

    control = dt.control_text(name).encode()
    out = Path(work) / f"{name}_1.0-1_amd64.deb"
    out.write_bytes(b"!<arch>\n" + dt._ar_member("debian-binary", b"2.0\n") +
                    dt._ar_member("control.tar", tar({"./control": (control, 0o644)})) +
                    dt._ar_member("data.tar", tar(files)))
    return out


def flip(path, old, new):
    """Replaces the first `old` in the file by `new` (same length) in place."""
    data = path.read_bytes()
    at = data.index(old)
    path.write_bytes(data[:at] + new + data[at + len(new):])


class CacheIntegrity(dt.TestCase):
    def setUp(self):
        super().setUp()
        self.local = dt.LocalRepo(self.scratch)
        self.output = self.scratch / "out" / "image"
        self.plain = plain_deb(self.local.pool, "plain", {
            "./usr/share/plain/data": (RIGHT, 0o644),
            "./usr/bin/plain": (b"\x7fELF plain", 0o755),
        })
        self.packed = dt.build_deb(self.local.pool, "packed",
                                   {"/usr/share/packed/data": RIGHT * 4})
        self.local.publish([self.plain, self.packed])
        self.server = dt.Server(self.local.root).__enter__()
        self.addCleanup(self.server.__exit__, None, None, None)
        self.manifest = dt.write_manifest(self.scratch / "image.yaml", "cached",
                                          [self.local.source(self.server.url)],
                                          ["plain", "packed"])

    def build(self, check=0):
        result = self.distill("build", "--json", "-o", self.output, self.manifest, check=check)
        return json.loads(result.stdout)["digest"], result.stderr

    def blob(self, deb):
        return self.cache / "blobs" / "sha256" / dt.sha256_file(deb)

    def derived(self, deb, suffix):
        return self.cache / "derived" / "unpacked" / (dt.sha256_file(deb) + suffix)

    def fetches(self, deb):
        return len(self.server.requests_for(deb.name))

    def drop_unpacked(self):
        shutil.rmtree(self.cache / "derived" / "unpacked")

    def assert_refetched(self, stderr, deb, times):
        self.assertIn(f"{deb.name.split('_')[0]} 1.0-1", stderr)
        self.assertIn("damaged", stderr)
        self.assertEqual(self.fetches(deb), times)
        self.assertEqual(dt.sha256_file(self.blob(deb)), self.blob(deb).name)

    def test_a_damaged_package_file_without_its_unpacked_copy_is_fetched_again(self):
        digest, _ = self.build()
        self.drop_unpacked()
        # One flip changes content only (no compression to notice it), the other breaks an xz
        # stream: both are caught by the hash, both files are fetched again, in one run.
        flip(self.blob(self.plain), RIGHT[:16], WRONG)
        data = self.blob(self.packed).read_bytes()
        middle = len(data) // 2
        self.blob(self.packed).write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) +
                                           data[middle + 1:])
        again, stderr = self.build()
        self.assertEqual(again, digest, stderr)
        self.assert_refetched(stderr, self.plain, 2)
        self.assert_refetched(stderr, self.packed, 2)

    def test_a_damaged_package_file_beside_its_unpacked_copy_never_reaches_an_image(self):
        digest, _ = self.build()
        flip(self.blob(self.plain), RIGHT[:16], WRONG)
        # The content pack was made from the intact file and is used as it is.
        again, stderr = self.build()
        self.assertEqual(again, digest, stderr)
        # Without the pack the damaged file is read, caught, and fetched again.
        self.drop_unpacked()
        again, stderr = self.build()
        self.assertEqual(again, digest, stderr)
        self.assert_refetched(stderr, self.plain, 2)

    def test_a_damaged_content_pack_is_made_again(self):
        digest, _ = self.build()
        flip(self.derived(self.plain, ".pack"), RIGHT[:16], WRONG)
        again, stderr = self.build()
        self.assertEqual(again, digest, stderr)
        self.assertIn("from plain", stderr)
        self.assertIn("damaged", stderr)
        # Made again from the package file, which was hashed again, not fetched again.
        self.assertEqual(self.fetches(self.plain), 1)
        self.assertNotIn(WRONG, self.derived(self.plain, ".pack").read_bytes())

    def test_an_edited_content_index_is_not_used(self):
        digest, _ = self.build()
        index = self.derived(self.plain, ".json")
        document = json.loads(index.read_text())
        text = json.dumps(document)
        # What an edit could do: rename a file, make it setuid, point it at other bytes.
        edited = text.replace("./usr/bin/plain", "./usr/bin/other")
        self.assertNotEqual(edited, text)
        index.write_text(edited)
        again, stderr = self.build()
        self.assertEqual(again, digest, stderr)
        self.assertIn("plain 1.0-1", stderr)
        self.assertIn("damaged", stderr)
        self.assertEqual(json.loads(index.read_text()), document)


if __name__ == "__main__":
    dt.main()
