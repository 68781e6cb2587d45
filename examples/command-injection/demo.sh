#!/usr/bin/env bash
# The command-injection demo: the same vulnerable Java service in the distill image and in a
# full Debian root filesystem (mmdebstrap minbase plus the JRE), and the commands an attacker
# tries first once they can run commands. Prints what ran where; exits 1 if anything ran in the
# distill image.
#
# Needs: javac and jar, podman (with runc), mmdebstrap, python3; root for podman and mmdebstrap.
# DISTILL names the distill binary (default: build/distill of this checkout). The Debian root
# filesystem is built once and kept in out/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
distill=${DISTILL:-$here/../../build/distill}
out=$here/out
mkdir -p "$out/classes"

# podman's defaults do not work on every machine: runc, and limits runc accepts.
cat >"$out/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
CONF
export CONTAINERS_CONF=$out/containers.conf

echo "==> the vulnerable service"
javac --release 17 -d "$out/classes" "$here/src/Vulnerable.java"
jar --create --file "$out/vulnerable.jar" --main-class Vulnerable -C "$out/classes" .

echo "==> the distill image"
"$distill" -q build -o "$out/image" "$here/manifest.yaml"

echo "==> the Debian image (mmdebstrap minbase + openjdk-17-jre-headless)"
if [[ ! -f $out/debian-rootfs.tar ]]; then
    # The mirror of the host's apt sources, or DISTILL_DEBIAN_MIRROR.
    if [[ -n ${DISTILL_DEBIAN_MIRROR:-} ]]; then
        mirror=("deb $DISTILL_DEBIAN_MIRROR bookworm main")
    else
        mirror=($(ls /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1))
        [[ ${#mirror[@]} -gt 0 ]] || mirror=(/etc/apt/sources.list)
    fi
    mmdebstrap --quiet --format=tar --variant=minbase --include=openjdk-17-jre-headless \
        bookworm "$out/debian-rootfs.partial.tar" "${mirror[@]}"
    mv "$out/debian-rootfs.partial.tar" "$out/debian-rootfs.tar"
fi
podman import --quiet "$out/debian-rootfs.tar" localhost/distill-demo-debian:latest >/dev/null

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
distroless_port=$(free_port)
debian_port=$(free_port)
distroless=distill-demo-distroless-$$
debian=distill-demo-debian-$$
cleanup() { podman rm --force --time 1 "$distroless" "$debian" >/dev/null 2>&1 || true; }
trap cleanup EXIT

podman run --detach --rm --network=host --name "$distroless" -e "PORT=$distroless_port" \
    "oci:$out/image:latest" >/dev/null
podman run --detach --rm --network=host --name "$debian" -e "PORT=$debian_port" \
    -v "$out/vulnerable.jar:/app/vulnerable.jar:ro" localhost/distill-demo-debian:latest \
    java -jar /app/vulnerable.jar >/dev/null

# Asks a service to run a command; prints its answer.
attack() {
    python3 - "$1" "$2" <<'PY'
import sys, time, urllib.parse, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/run?cmd=" + urllib.parse.quote(sys.argv[2])
for attempt in range(120):  # the JVMs take a moment to start
    try:
        print(urllib.request.urlopen(url, timeout=30).read().decode(), end="")
        break
    except OSError:
        time.sleep(0.5)
else:
    sys.exit(f"no answer from {url}")
PY
}

commands=("sh -c id" "ls /" "cat /etc/passwd" "wget --version" "curl --version"
          "apt-get --version" "perl -e print(42)" "python3 -c print(42)")
ran_distroless=0
ran_debian=0
echo
printf '%-22s | %-30s | %-30s\n' "attacker runs" "distill image" "Debian image"
printf '%-22s-+-%-30s-+-%-30s\n' "----------------------" "------------------------------" \
    "------------------------------"
verdict() {
    if [[ $1 == exit=* ]]; then echo "runs"; else echo "blocked (no such program)"; fi
}
for command in "${commands[@]}"; do
    a=$(verdict "$(attack "$distroless_port" "$command")")
    b=$(verdict "$(attack "$debian_port" "$command")")
    [[ $a == runs ]] && ran_distroless=$((ran_distroless + 1))
    [[ $b == runs ]] && ran_debian=$((ran_debian + 1))
    printf '%-22s | %-30s | %-30s\n' "$command" "$a" "$b"
done
echo
echo "ran: distill image $ran_distroless of ${#commands[@]}, Debian image $ran_debian of ${#commands[@]}"
layer_size=$(python3 -c 'import json, sys
index = json.load(open(sys.argv[1] + "/index.json"))
m = json.load(open(sys.argv[1] + "/blobs/sha256/" + index["manifests"][0]["digest"][7:]))
print(sum(l["size"] for l in m["layers"]))' "$out/image")
echo "sizes: distill image $((layer_size / 1000000)) MB compressed;" \
    "Debian root filesystem $(($(stat -c %s "$out/debian-rootfs.tar") / 1000000)) MB uncompressed"
[[ $ran_distroless -eq 0 ]]
