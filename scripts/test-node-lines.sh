#!/usr/bin/env bash
# The fast test tiers on the other supported Node lines (default 22 24 26): unit, native (the same
# N-API 8 addon build loads on every line) and the app-author e2e (the packed tarball installed into
# fresh apps that run the README's snippets). Node binaries come from the npm registry's
# node-linux-<arch> packages, cached between runs (scripts/node-line.mjs); npm, npx and vitest's
# workers run on the line under test. Needs `npm ci` (or install) and `npm run build:ts` first.
#
#   bash scripts/test-node-lines.sh [22 24 26]
set -euo pipefail
cd "$(dirname "$0")/.."
lines=("$@")
((${#lines[@]})) || lines=(22 24 26)
all_started=$SECONDS
for line in "${lines[@]}"; do
  started=$SECONDS
  node_bin=$(node scripts/node-line.mjs "$line")
  version=$("$node_bin/node" --version)
  echo "test-node-lines: Node $version: unit, native and app-author e2e tiers"
  PATH="$node_bin:$PATH" node node_modules/vitest/vitest.mjs run --project unit --project native
  PATH="$node_bin:$PATH" node node_modules/vitest/vitest.mjs run test/e2e/app-author.test.ts
  echo "test-node-lines: Node $version took $((SECONDS - started)) s"
done
echo "test-node-lines: ${lines[*]} took $((SECONDS - all_started)) s"
