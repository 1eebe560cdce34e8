#!/bin/bash
# test_readme.sh -- the README's profile table is the catalog's, not a copy
# that drifts: the block between the catalog markers must equal
# `xmpp-responder catalog --format markdown`. Regenerate with:
#   bash tests/cli/test_readme.sh BINARY --update
set -u
RS=$1
README=$(dirname "$0")/../../README.md
want=$("$RS" catalog --format markdown)
have=$(sed -n '/<!-- catalog:begin/,/<!-- catalog:end -->/p' "$README" | sed '1d;$d')
if [ "${2:-}" = "--update" ]; then
    awk -v table="$want" '
        /<!-- catalog:begin/ { print; print table; skip = 1; next }
        /<!-- catalog:end -->/ { skip = 0 }
        !skip' "$README" >"$README.new" && mv "$README.new" "$README"
    echo "README table updated"
    exit 0
fi
if [ "$want" = "$have" ]; then
    echo "ok - README profile table matches the catalog ($(grep -c '^| `' <<<"$want") rows)"
    echo "1 passed, 0 failed"
else
    echo "not ok - README profile table differs from the catalog; run: bash tests/cli/test_readme.sh $RS --update"
    diff <(echo "$have") <(echo "$want") | head -20
    echo "0 passed, 1 failed"
    exit 1
fi
