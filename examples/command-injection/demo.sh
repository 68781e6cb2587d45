#!/usr/bin/env bash
# The command-injection demo: the same vulnerable Java service in the distill image, in the
# distill image run under its runtime profile, and in a full Debian root filesystem (mmdebstrap
# minbase plus the JRE); the commands an attacker tries first once they can run commands, then
# a shell they upload and run. Prints what ran where; exits 1 if anything ran in the distill
# image under its profile.
#
# Needs: javac and jar, podman (with runc), mmdebstrap, python3; root for podman and mmdebstrap.
# DISTILL names the distill binary (default: build/distill of this checkout). The Debian root
# filesystem comes from the mirror of the host's apt sources (or DISTILL_DEBIAN_MIRROR); it is
# built once and kept in out/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
distill=${DISTILL:-$here/../../build/distill}
out=$here/out
debian_image=localhost/distill-demo-debian:latest
mkdir -p "$out"

if [[ $(id -u) -ne 0 ]]; then
    echo "demo.sh: run as root (podman runs the containers, mmdebstrap builds Debian)" >&2
    exit 2
fi

# podman's defaults do not work on every machine: runc, and limits runc accepts.
cat >"$out/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
CONF
export CONTAINERS_CONF=$out/containers.conf

echo "==> the vulnerable service"
rm -rf "$out/classes"
mkdir -p "$out/classes"
javac --release 17 -d "$out/classes" "$here/src/Vulnerable.java"
# A fixed entry date keeps the jar, and so the image digest, the same from build to build.
jar --create --date=2024-01-01T00:00:00Z --file "$out/vulnerable.jar" --main-class Vulnerable \
    -C "$out/classes" .

echo "==> the distill image"
"$distill" -q build --json -o "$out/image" "$here/manifest.yaml" >"$out/build.json"

echo "==> the Debian image (mmdebstrap minbase + openjdk-17-jre-headless)"
if [[ ! -f $out/debian-rootfs.tar ]]; then
    if [[ -n ${DISTILL_DEBIAN_MIRROR:-} ]]; then
        mirror=("deb $DISTILL_DEBIAN_MIRROR bookworm main")
    else
        # The host's Debian sources, as distill reads them: the first *.sources file, else
        # sources.list (nullglob: no match gives an empty list).
        shopt -s nullglob
        mirror=(/etc/apt/sources.list.d/*.sources)
        shopt -u nullglob
        [[ ${#mirror[@]} -gt 0 ]] || mirror=(/etc/apt/sources.list)
        mirror=("${mirror[0]}")
    fi
    mmdebstrap --quiet --format=tar --variant=minbase --include=openjdk-17-jre-headless \
        bookworm "$out/debian-rootfs.partial.tar" "${mirror[@]}"
    mv "$out/debian-rootfs.partial.tar" "$out/debian-rootfs.tar"
    podman rmi --force "$debian_image" >/dev/null 2>&1 || true  # imported from an older tar
fi
if ! podman image exists "$debian_image"; then
    podman import --quiet "$out/debian-rootfs.tar" "$debian_image" >/dev/null
fi

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
distroless_port=$(free_port)
profiled_port=$(free_port)
debian_port=$(free_port)
distroless=distill-demo-distroless-$$
profiled=distill-demo-profiled-$$
debian=distill-demo-debian-$$
# (--ignore: one that never started, or stopped already, must not keep the others running.)
cleanup() {
    podman rm --force --ignore --time 1 "$distroless" "$profiled" "$debian" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# Without --rm, so that the log of a service that died stays readable; cleanup removes both.
# (podman names an image it runs from a layout after the layout's path, and refuses capital
# letters in it: keep this checkout in a path without them.)
podman run --detach --network=host --name "$distroless" -e "PORT=$distroless_port" \
    "oci:$out/image:latest" >/dev/null
# The same image under its runtime profile, as `distill inspect out/image --run` says: a
# read-only root (without the writable /run, /tmp and /var/tmp podman adds by default) with a
# noexec tmpfs /tmp, no capability, no new privileges, the seccomp profile.
podman run --detach --network=host --name "$profiled" -e "PORT=$profiled_port" \
    --read-only --read-only-tmpfs=false --tmpfs /tmp:rw,noexec,nosuid,nodev --cap-drop=ALL \
    --security-opt=no-new-privileges \
    --security-opt=seccomp="$out/image.seccomp.json" --user=65532:65532 \
    "oci:$out/image:latest" >/dev/null
podman run --detach --network=host --name "$debian" -e "PORT=$debian_port" \
    -v "$out/vulnerable.jar:/app/vulnerable.jar:ro" "$debian_image" \
    java -jar /app/vulnerable.jar >/dev/null

# Asks the service of container $1 on port $2 to run the command $3 (or, with a file $4, to
# write it at the path $3); prints its answer. Stops the demo, with the container's log, when
# the service does not answer within a minute.
attack() {
    python3 - "$2" "$3" "${4:-}" <<'PY' || { podman logs "$1" >&2; exit 1; }
import sys, time, urllib.parse, urllib.request
port, what, upload = sys.argv[1:4]
action = "upload?path=" if upload else "run?cmd="
url = f"http://127.0.0.1:{port}/{action}" + urllib.parse.quote(what, safe="")
body = open(upload, "rb").read() if upload else None
for attempt in range(120):  # the JVMs take a moment to start
    try:
        print(urllib.request.urlopen(url, data=body, timeout=30).read().decode(), end="")
        break
    except OSError:
        time.sleep(0.5)
else:
    sys.exit(f"no answer from {url}; the container's log:")
PY
}

# Uploads the file $4 to the path $3 through container $1's service on port $2, then runs
# "$3 -c id" there; prints the last answer.
bring_and_run() {
    local answer
    answer=$(attack "$1" "$2" "$3" "$4")
    if [[ $answer == written* ]]; then
        answer=$(attack "$1" "$2" "$3 -c id")
    fi
    echo "$answer"
}

# What the service's answer means for the attacker. It answers "exit=N" and the output when the
# program ran (whatever N is: the program was there), and the exception's message otherwise.
verdict() {
    case $1 in
        exit=*) echo "runs" ;;
        *"error=2, No such file or directory"*) echo "blocked (no such program)" ;;
        *"error=13, Permission denied"*) echo "blocked (noexec /tmp)" ;;
        *"Read-only file system"*) echo "blocked (read-only root)" ;;
        *) echo "blocked (${1%%$'\n'*})" ;;  # some other failure: show its first line
    esac
}

commands=("sh -c id" "ls /" "cat /etc/passwd" "wget --version" "curl --version"
          "apt-get --version" "perl -e print(42)" "python3 -c print(42)")
# Then the attacker brings a shell of their own (Debian's dash, which needs only the C library
# every JVM image has), uploaded through the second bug, and runs it.
uploads=(/tmp/sh /var/tmp/sh)
tar -xOf "$out/debian-rootfs.tar" ./usr/bin/dash >"$out/dash"
total=$((${#commands[@]} + ${#uploads[@]}))
ran_distroless=0
ran_profiled=0
ran_debian=0
row() { printf '%-26s | %-26s | %-26s | %s\n' "$@"; }
tally() {
    [[ $1 == runs ]] && ran_distroless=$((ran_distroless + 1))
    [[ $2 == runs ]] && ran_profiled=$((ran_profiled + 1))
    [[ $3 == runs ]] && ran_debian=$((ran_debian + 1))
    return 0
}
echo
row "attacker runs" "distill image" "distill image + profile" "Debian image"
echo "---------------------------+----------------------------+----------------------------+---------------------------"
for command in "${commands[@]}"; do
    # (Separate assignments: `exit` in attack leaves only the $(...) it runs in, whose
    # failure then stops the script through set -e.)
    answer=$(attack "$distroless" "$distroless_port" "$command")
    a=$(verdict "$answer")
    answer=$(attack "$profiled" "$profiled_port" "$command")
    b=$(verdict "$answer")
    answer=$(attack "$debian" "$debian_port" "$command")
    c=$(verdict "$answer")
    tally "$a" "$b" "$c"
    row "$command" "$a" "$b" "$c"
done
for path in "${uploads[@]}"; do
    answer=$(bring_and_run "$distroless" "$distroless_port" "$path" "$out/dash")
    a=$(verdict "$answer")
    answer=$(bring_and_run "$profiled" "$profiled_port" "$path" "$out/dash")
    b=$(verdict "$answer")
    answer=$(bring_and_run "$debian" "$debian_port" "$path" "$out/dash")
    c=$(verdict "$answer")
    tally "$a" "$b" "$c"
    row "upload $path, run it" "$a" "$b" "$c"
done
echo
echo "ran: distill image $ran_distroless of $total, distill image + profile $ran_profiled of $total, Debian image $ran_debian of $total"

# Both root filesystems as uncompressed tars, and what each holds.
python3 - "$out/build.json" "$out/debian-rootfs.tar" <<'PY'
import json, os, re, sys, tarfile
image = json.load(open(sys.argv[1]))["archs"][0]
with tarfile.open(sys.argv[2]) as rootfs:
    status = rootfs.extractfile("./var/lib/dpkg/status").read().decode()
debian_packages = len(re.findall(r"^Package: ", status, re.M))
mb = lambda n: f"{n / 1e6:.0f} MB"
print(f"sizes: distill image {mb(image['layer']['tar_size'])} ({image['packages']} packages; "
      f"{mb(image['layer']['size'])} compressed), Debian image "
      f"{mb(os.path.getsize(sys.argv[2]))} ({debian_packages} packages)")
PY
# What the image never had stays out of reach, and the profile stops what the attacker brings.
[[ $ran_profiled -eq 0 ]]
