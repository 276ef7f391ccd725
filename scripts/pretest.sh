#!/usr/bin/env bash
# npm runs this before `npm test`. The suite tests Sealbox against real peers (Postfix, Exim,
# Dovecot, notmuch, miltertest, Chromium): as root, missing ones are installed here; otherwise
# it says what to run. Tests that need a missing peer are skipped locally and fail under CI=true.
set -uo pipefail
cd "$(dirname "$0")/.."
missing=$(bash scripts/install-peers.sh --check) && exit 0
if [ "$(id -u)" -eq 0 ]; then
  exec bash scripts/install-peers.sh
fi
echo "pretest: $missing" >&2
echo "pretest: the tests that need these peers will be skipped (and fail under CI=true)." >&2
echo "pretest: install them once with: sudo bash scripts/install-peers.sh" >&2
[ -z "${CI:-}" ] || exit 1
