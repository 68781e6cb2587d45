#!/usr/bin/env bash
# Builds the jar with javac, then the image with distill, into out/.
# DISTILL names the distill binary (default: build/distill of this checkout).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
distill=${DISTILL:-$here/../../build/distill}

rm -rf "$here/out/classes"
mkdir -p "$here/out/classes"
javac --release 17 -d "$here/out/classes" "$here/src/App.java"
# A fixed entry date keeps the jar, and so the image digest, the same from build to build.
jar --create --date=2024-01-01T00:00:00Z --file "$here/out/app.jar" --main-class App \
    -C "$here/out/classes" .
"$distill" build -o "$here/out/image" "$here/manifest.yaml"
