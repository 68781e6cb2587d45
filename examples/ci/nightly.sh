#!/usr/bin/env bash
# Nightly rebuild of a distroless image: take today's package versions, build exactly them, and
# push only when the image changed, with the CVEs the update fixes in the job's summary and in
# the commit that records the new lock.
#
# Usage: nightly.sh MANIFEST REFERENCE...
#   MANIFEST     the image manifest; its lock (NAME.lock beside NAME.yaml) lives in git with it
#   REFERENCE    where the image is pushed: registry.example.org/team/java17:nightly (several
#                tags may follow; every architecture of the manifest goes in one image index)
#
# Environment:
#   DISTILL              the distill binary (default: distill from PATH)
#   DISTILL_PUSH_ARGS    extra arguments for the push: --authfile FILE, --cert-dir DIR,
#                        --tls-verify=false (credentials are otherwise read where docker and
#                        podman keep them: REGISTRY_AUTH_FILE, containers/auth.json, the
#                        docker config and its credential helpers)
#   GITHUB_STEP_SUMMARY  a file the summary is appended to (GitHub Actions sets it)
#   NIGHTLY_COMMIT       1 (default): commit the new lock when the image changed; 0: don't
#
# Exit status: 0 when the image is pushed or nothing changed; distill's exit code when a step
# fails (5: the mirror or the registry is unreachable, 4: a signature or hash is wrong, ...).
set -euo pipefail

if [[ $# -lt 2 ]]; then
    sed -n '2,21p' "$0" >&2
    exit 2
fi
manifest=$1
shift
push=()
for reference in "$@"; do
    push+=(--push "$reference")
done
distill=${DISTILL:-distill}
read -r -a push_args <<<"${DISTILL_PUSH_ARGS:-}"
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

# 2. Build exactly what the lock says and push it. The build is reproducible: the same lock
#    gives the same digest, and a tag that already names that digest is left alone (nothing is
#    uploaded), so an unchanged image is the "nothing changed" night.
"$distill" build --frozen --json -o "$work/image" "${push[@]}" "${push_args[@]}" "$manifest" \
    >"$work/build.json"
read -r digest changed < <(python3 -c '
import json, sys
build = json.load(open(sys.argv[1]))
references = build["push"]["references"]
print(build["digest"], int(any(not r["unchanged"] for r in references)))' "$work/build.json")

if [[ $changed == 0 ]]; then
    summary "### $name: unchanged"
    summary "$* already name \`$digest\`; nothing pushed."
    exit 0
fi

# 3. What changed, package by package, with the CVEs the new versions fix.
if [[ -f $work/previous.lock ]]; then
    "$distill" diff "$work/previous.lock" "$lock" >"$work/diff.txt"
else
    echo "first build: no previous lock" >"$work/diff.txt"
fi
summary "### $name: pushed \`$digest\`"
summary "to $*"
summary ""
summary '```'
summary "$(cat "$work/diff.txt")"
summary '```'

# 4. Record the lock that built it.
if [[ ${NIGHTLY_COMMIT:-1} == 1 ]] && git -C "$(dirname "$lock")" rev-parse --git-dir >/dev/null 2>&1; then
    git -C "$(dirname "$lock")" add "$(basename "$lock")"
    if ! git -C "$(dirname "$lock")" diff --cached --quiet; then
        git -C "$(dirname "$lock")" commit --quiet -m "nightly: $name $digest" \
            -m "$(cat "$work/diff.txt")"
    fi
fi
