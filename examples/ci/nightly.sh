#!/usr/bin/env bash
# Nightly rebuild of a distroless image: take today's package versions, build exactly them, and
# publish only when the image changed, with the CVEs the update fixes in the job's summary and
# in the commit that records the new lock.
#
# Usage: nightly.sh MANIFEST DESTINATION
#   MANIFEST     the image manifest; its lock (NAME.lock beside NAME.yaml) lives in git with it
#   DESTINATION  where the image is published, as skopeo names it:
#                docker://registry.example.org/team/java17:nightly, or oci:/srv/images/java17:nightly
#
# Environment:
#   DISTILL              the distill binary (default: distill from PATH)
#   SKOPEO_ARGS          extra arguments for skopeo (credentials, --dest-tls-verify=false, ...)
#   GITHUB_STEP_SUMMARY  a file the summary is appended to (GitHub Actions sets it)
#   NIGHTLY_COMMIT       1 (default): commit the new lock when the image changed; 0: don't
#
# Exit status: 0 when the image is published or nothing changed; distill's exit code when a
# step fails (5: the mirror is unreachable, 4: a signature or hash is wrong, ...).
set -euo pipefail

if [[ $# -ne 2 ]]; then
    sed -n '2,21p' "$0" >&2
    exit 2
fi
manifest=$1
destination=$2
distill=${DISTILL:-distill}
read -r -a skopeo_args <<<"${SKOPEO_ARGS:-}"
lock="${manifest%.*}.lock"
name=$(basename "${manifest%.*}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

summary() {
    echo "$*"
    if [[ -n ${GITHUB_STEP_SUMMARY:-} ]]; then
        echo "$*" >>"$GITHUB_STEP_SUMMARY"
    fi
}

# 1. Yesterday's lock (as committed), then today's versions: signatures and hashes verified.
if [[ -f $lock ]]; then
    cp "$lock" "$work/previous.lock"
fi
"$distill" lock --update "$manifest"

# 2. Build exactly what the lock says. The build is reproducible: the same lock gives the same
#    digest, so an unchanged digest means nothing changed.
"$distill" build --frozen --json -o "$work/image" "$manifest" >"$work/build.json"
digest=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["digest"])' \
    "$work/build.json")

# 3. What is published now: the digest of the manifest (or index) stored at the destination.
published=""
if skopeo inspect --raw "${skopeo_args[@]}" "$destination" >"$work/published.json" 2>/dev/null; then
    published="sha256:$(sha256sum "$work/published.json" | cut -d' ' -f1)"
fi

if [[ $digest == "$published" ]]; then
    summary "### $name: unchanged"
    summary "The image is still \`$digest\`; nothing to publish."
    exit 0
fi

# 4. What changed, package by package, with the CVEs the new versions fix.
if [[ -f $work/previous.lock ]]; then
    "$distill" diff "$work/previous.lock" "$lock" >"$work/diff.txt"
else
    echo "first build: no previous lock" >"$work/diff.txt"
fi

# 5. Publish, keeping the digest distill computed.
skopeo copy --preserve-digests "${skopeo_args[@]}" "oci:$work/image:latest" "$destination"
summary "### $name: published \`$digest\`"
summary "to \`$destination\` (was \`${published:-nothing}\`)"
summary ""
summary '```'
summary "$(cat "$work/diff.txt")"
summary '```'

# 6. Record the lock that built it.
if [[ ${NIGHTLY_COMMIT:-1} == 1 ]] && git -C "$(dirname "$lock")" rev-parse --git-dir >/dev/null 2>&1; then
    git -C "$(dirname "$lock")" add "$(basename "$lock")"
    if ! git -C "$(dirname "$lock")" diff --cached --quiet; then
        git -C "$(dirname "$lock")" commit --quiet -m "nightly: $name $digest" \
            -m "$(cat "$work/diff.txt")"
    fi
fi
