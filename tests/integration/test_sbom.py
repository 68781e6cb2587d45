"""Integration: the SBOMs of `distill build` (SPDX 2.3 and CycloneDX 1.6, stored in the layout as
artifacts whose subject is the image), `distill sbom` and `distill inspect`, on packages made
here: hello (a machine-readable copyright file, a source package of another name and version,
documentation the path policy drops) and libhello1, which it depends on (a copyright file that
is not machine-readable)."""

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
import distill_test as dt  # noqa: E402

COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: hello

Files: *
Copyright: 2020 Hello Authors
License: GPL-2+

Files: debian/*
Copyright: 2021 Debian
License: Expat

License: GPL-2+
 This program is free software.

License: Expat
 Permission is hereby granted.
"""


class Sbom(dt.TestCase):
    def setUp(self):
        super().setUp()
        self.schemas = dt.SbomSchemas()
        local = dt.LocalRepo(self.scratch)
        hello = dt.build_deb(local.pool, "hello", {
            "/usr/bin/hello": (b"\x7fELF hello", 0o755),
            "/usr/share/doc/hello/copyright": COPYRIGHT,
            "/usr/share/doc/hello/README": "read me\n",
            "/usr/share/man/man1/hello.1.gz": b"\x1f\x8bman",
        }, Depends="libhello1", Source="hello-src (2.0-1)", Homepage="https://hello.invalid/")
        library = dt.build_deb(local.pool, "libhello1", {
            "/usr/lib/libhello.so.1": b"\x7fELF libhello",
            "/usr/share/doc/libhello1/copyright": "Copyright 2020 someone. All rights reserved.\n",
        })
        local.publish([hello, library])
        self.server = dt.Server(local.root).__enter__()
        self.addCleanup(self.server.__exit__, None, None, None)
        self.manifest = self.scratch / "hello.yaml"
        dt.write_manifest(self.manifest, "hello", [local.source(self.server.url)], ["hello"])

    def build(self, out, *args):
        return json.loads(self.distill("build", "--json", "-o", out, *args, self.manifest,
                                       check=0).stdout)

    def test_both_documents_describe_exactly_the_image(self):
        result = self.build(self.scratch / "out")
        layout = self.scratch / "out"
        _, _, layer = dt.image_files(layout)
        status = dt.layer_paths(layer)["/var/lib/dpkg/status"][1].decode()
        plan = json.loads(self.distill("plan", "--json", self.manifest, check=0).stdout)
        spdx, cyclonedx = dt.check_sboms(self, layout, self.schemas,
                                         dt.dpkg_status_packages(status),
                                         [p["name"] for p in plan["packages"]])
        self.assertEqual(sorted(result["archs"][0]["sboms"][i]["format"] for i in range(2)),
                         ["cyclonedx", "spdx"])

        packages = {p["name"]: p for p in spdx["packages"]}
        hello, library = packages["hello"], packages["libhello1"]
        self.assertEqual(hello["licenseDeclared"], "GPL-2.0-or-later AND MIT")
        self.assertEqual(library["licenseDeclared"], "NOASSERTION")
        self.assertEqual(hello["supplier"], "Person: distill tests (tests@distill.invalid)")
        self.assertEqual(hello["homepage"], "https://hello.invalid/")
        self.assertIn("hello-src 2.0-1", hello["sourceInfo"])
        self.assertTrue(hello["downloadLocation"].startswith(self.server.url))
        purl = [r["referenceLocator"] for r in hello["externalRefs"]][0]
        self.assertEqual(purl, "pkg:deb/debian/hello@1.0-1?arch=amd64&distro=debian-12"
                               "&upstream=hello-src%402.0-1")
        deb = self.scratch / "repo" / "pool" / "main" / "hello_1.0-1_amd64.deb"
        self.assertEqual(hello["checksums"][0]["checksumValue"], dt.sha256_file(deb))
        relations = {(r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"])
                     for r in spdx["relationships"]}
        self.assertIn((hello["SPDXID"], "DEPENDS_ON", library["SPDXID"]), relations)
        self.assertIn(("SPDXRef-Image", "CONTAINS", hello["SPDXID"]), relations)
        self.assertIn(("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image"), relations)
        os_package = packages["debian"]
        self.assertEqual((os_package["versionInfo"], os_package["primaryPackagePurpose"]),
                         ("12", "OPERATING_SYSTEM"))

        # Trimmed: what the path policy dropped is in neither the SBOM nor the database.
        files = {f["fileName"]: f for f in spdx["files"]}
        self.assertIn("./usr/share/doc/hello/copyright", files)
        self.assertNotIn("./usr/share/doc/hello/README", files)
        self.assertNotIn("./usr/share/man/man1/hello.1.gz", files)
        hello_list = dt.layer_paths(layer)["/var/lib/dpkg/info/hello.list"][1].decode()
        self.assertNotIn("README", hello_list)
        # Files distill made say why.
        self.assertTrue(files["./etc/passwd"]["comment"].startswith(
            "generated by distill: the image's accounts"), files["./etc/passwd"])
        self.assertIn("package database", files["./var/lib/dpkg/status"]["comment"])
        by_id = {f["SPDXID"]: f["fileName"] for f in spdx["files"]}
        owned = {by_id[r[2]] for r in relations if r[0] == hello["SPDXID"] and r[1] == "CONTAINS"}
        self.assertEqual(owned, {"./usr/bin/hello", "./usr/share/doc/hello/copyright"})

        components = {c["name"]: c for c in cyclonedx["components"]}
        self.assertEqual(components["hello"]["licenses"], [{"expression":
                                                            "GPL-2.0-or-later AND MIT"}])
        self.assertNotIn("licenses", components["libhello1"])
        self.assertEqual(cyclonedx["metadata"]["component"]["version"],
                         result["archs"][0]["digest"])
        needs = {d["ref"]: d["dependsOn"] for d in cyclonedx["dependencies"]}
        self.assertEqual(needs[components["hello"]["bom-ref"]],
                         [components["libhello1"]["bom-ref"]])

    def test_two_builds_give_the_same_documents_and_tools_still_read_the_image(self):
        first = self.build(self.scratch / "one", "--sbom-dir", self.scratch / "files")
        dt.run(["--cache-dir", self.scratch / "other-cache", "build", "-o", self.scratch / "two",
                self.manifest], check=0)
        one = json.loads((self.scratch / "one" / "index.json").read_text())
        two = json.loads((self.scratch / "two" / "index.json").read_text())
        self.assertEqual(one, two)
        self.assertEqual([m.get("artifactType") for m in one["manifests"]],
                         [None, dt.SPDX_MEDIA_TYPE, dt.CYCLONEDX_MEDIA_TYPE])
        printed = [self.distill("sbom", self.scratch / name, "--format", form, check=0).stdout
                   for name in ("one", "two") for form in ("spdx", "cyclonedx")]
        self.assertEqual(printed[:2], printed[2:])
        # --sbom-dir holds the same bytes.
        self.assertEqual((self.scratch / "files" / "hello-amd64.spdx.json").read_text() + "\n",
                         printed[0])
        self.assertEqual((self.scratch / "files" / "hello-amd64.cdx.json").read_text() + "\n",
                         printed[1])
        # The layout with its artifacts is still a valid layout skopeo reads by tag.
        dt.OciSchemas().check_layout(self.scratch / "one")
        dt.require_programs("skopeo")
        inspected = json.loads(subprocess.run(
            ["skopeo", "inspect", f"oci:{self.scratch / 'one'}:latest"], capture_output=True,
            check=True, text=True).stdout)
        self.assertEqual(inspected["Digest"], first["digest"])
        # An architecture the layout lacks is a usage error naming the ones it has.
        wrong = self.distill("sbom", self.scratch / "one", "--arch", "arm64")
        self.assertEqual(wrong.returncode, 2, wrong.stderr)
        self.assertIn("amd64", wrong.stderr)

    def test_no_sbom_and_archives(self):
        self.build(self.scratch / "plain", "--no-sbom")
        index = json.loads((self.scratch / "plain" / "index.json").read_text())
        self.assertEqual(len(index["manifests"]), 1)
        missing = self.distill("sbom", self.scratch / "plain")
        self.assertEqual(missing.returncode, 1)
        self.assertIn("holds no application/spdx+json SBOM", missing.stderr)
        # An archive holds one image, as podman load wants; its SBOMs go to --sbom-dir.
        archive = self.scratch / "hello.tar"
        self.build(archive, "--format", "oci-archive", "--sbom-dir", self.scratch / "sboms")
        listed = subprocess.run(["tar", "-xOf", archive, "index.json"], capture_output=True,
                                check=True).stdout
        self.assertEqual(len(json.loads(listed)["manifests"]), 1)
        self.assertEqual(sorted(p.name for p in (self.scratch / "sboms").iterdir()),
                         ["hello-amd64.cdx.json", "hello-amd64.spdx.json"])

    def test_inspect_lists_every_path_and_says_why(self):
        layout = self.scratch / "out"
        self.build(layout)
        listing = json.loads(self.distill("inspect", "--json", layout, check=0).stdout)
        entries = {e["path"]: e for e in listing["entries"]}
        _, _, layer = dt.image_files(layout)
        self.assertEqual(set(entries), set(dt.layer_paths(layer)))
        self.assertEqual(entries["/usr/bin/hello"]["package"], "hello")
        self.assertEqual(entries["/usr/bin/hello"]["mode"], "0755")
        self.assertIn("accounts", entries["/etc/passwd"]["generated"])
        packages = {p["name"]: p for p in listing["packages"]}
        self.assertEqual(packages["libhello1"]["files"], 2)
        self.assertEqual(packages["hello"]["why"], ["hello"])
        self.assertEqual(sorted(listing["entries"], key=lambda e: e["path"]),
                         listing["entries"])

        why = self.distill("inspect", layout, "--why", "/usr/lib/libhello.so.1", check=0).stdout
        self.assertIn("/usr/lib/libhello.so.1: shipped by libhello1 1.0-1 (amd64)", why)
        self.assertIn("the manifest asks for hello, which needs libhello1", why)
        why = json.loads(self.distill("inspect", "--json", layout, "--why", "usr/bin/hello",
                                      check=0).stdout)
        self.assertEqual((why["package"], why["why"]), ("hello", ["hello"]))
        generated = self.distill("inspect", layout, "--why", "/etc/passwd", check=0).stdout
        self.assertIn("generated by distill: the image's accounts", generated)

        only = json.loads(self.distill("inspect", "--json", layout, "--package", "libhello1",
                                       check=0).stdout)
        self.assertEqual({e["package"] for e in only["entries"]}, {"libhello1"})
        missing = self.distill("inspect", layout, "--why", "/no/such/file")
        self.assertEqual(missing.returncode, 2)
        self.assertIn("is not in the image", missing.stderr)


if __name__ == "__main__":
    dt.main()
