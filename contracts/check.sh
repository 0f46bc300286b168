#!/usr/bin/env bash
# `npm run contracts:check`: buf lint, then buf breaking against the contracts as they were at a
# base revision, read from git history (no network, no registry). The base is
#   - $CONTRACTS_BASE_REF when set (any git revision);
#   - on a branch other than main, where it forked from main (what merging it would change);
#   - on main, the first parent of HEAD: for a merge commit, main as it was before the merge.
# Where the base has no contracts yet (or the clone has no history), there is nothing to break.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

buf lint contracts
echo 'buf lint: ok'

base=${CONTRACTS_BASE_REF:-}
if [[ -z $base ]]; then
  branch=$(git rev-parse --abbrev-ref HEAD)
  main=$(git rev-parse --quiet --verify main || git rev-parse --quiet --verify origin/main || true)
  if [[ $branch != main && -n $main ]]; then
    base=$(git merge-base HEAD "$main")
  elif git rev-parse --quiet --verify 'HEAD^1' >/dev/null; then
    base='HEAD^1'
  fi
fi
if [[ -z $base ]] || ! git cat-file -e "$base:contracts/buf.yaml" 2>/dev/null; then
  echo "buf breaking: no earlier contracts to compare against (base: ${base:-none}); skipped"
  exit 0
fi
commit=$(git rev-parse --verify "$base^{commit}")
# Compared as a tree exported from git, so it works the same in a clone, a worktree or CI.
against=$(mktemp -d)
trap 'rm -rf "$against"' EXIT
git archive "$commit" contracts/buf.yaml contracts/proto | tar -x -C "$against"
buf breaking contracts --against "$against/contracts"
echo "buf breaking: no breaking change since ${commit:0:12}"
