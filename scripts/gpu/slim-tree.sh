#!/bin/bash
# The device tool sends the working tree with every call (64 MiB in all), so staging the apps needs a small tree: the
# tiny model's training checkpoints (29 MB, needed only by tools/tiny-model/gpu-run.sh) are taken out of the index and
# ignored while the staging and bench calls run, and put back after (their files never leave the disk).
#   scripts/gpu/slim-tree.sh on | off | status
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
files=(tools/tiny-model/checkpoint/tiny-shapes.pt tools/tiny-model/checkpoint/checker.pt)
rule='/tools/tiny-model/checkpoint/*.pt'
case ${1:-status} in
  on)
    # while slim, a commit would delete the checkpoints from the repository: refuse commits until `off`
    hook=$(git rev-parse --git-path hooks)/pre-commit
    mkdir -p "$(dirname "$hook")"
    [[ -e $hook ]] || printf '#!/bin/sh\necho "scripts/gpu/slim-tree.sh is on (checkpoints out of the index): run it with off first" >&2\nexit 1\n' > "$hook"
    chmod +x "$hook"
    git rm -q --cached --ignore-unmatch "${files[@]}"
    grep -qxF "$rule" .git/info/exclude || echo "$rule" >> .git/info/exclude
    echo "slim: checkpoints out of the index (run 'scripts/gpu/slim-tree.sh off' after the device calls; do not commit meanwhile)" ;;
  off)
    grep -vxF "$rule" .git/info/exclude > .git/info/exclude.tmp || true
    mv .git/info/exclude.tmp .git/info/exclude
    git reset -q HEAD -- "${files[@]}"
    hook=$(git rev-parse --git-path hooks)/pre-commit
    if [[ -f $hook ]] && grep -q "slim-tree.sh is on" "$hook"; then rm "$hook"; fi
    echo "slim: checkpoints back in the index" ;;
  status) ;;
  *) echo "usage: $0 on | off | status" >&2; exit 2 ;;
esac
echo "working tree sent with each device call: $( { git ls-files -z; git ls-files -z -o --exclude-standard; } | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1 | numfmt --to=iec)"
