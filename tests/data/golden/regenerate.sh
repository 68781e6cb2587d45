#!/usr/bin/env bash
# Rewrites the golden digests after an intended change to what distill writes, by running the
# golden test with DISTILL_UPDATE_GOLDEN=1. Review the diff before committing it.
set -euo pipefail
cd "$(dirname "$0")/../../.."
cmake --build build --target distill
DISTILL_UPDATE_GOLDEN=1 DISTILL_BINARY="$PWD/build/distill" \
    /usr/bin/python3 tests/integration/test_build.py Build.test_golden_digest
git diff --stat -- tests/data/golden
