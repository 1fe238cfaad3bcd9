#!/usr/bin/env bash
# The README and the manual under docs/: every relative Markdown link resolves to a file of the
# tree (and a #anchor to a heading of that file), every verb of the README's verb table answers
# `appliance VERB --help` with exit 0 and some text, and every verb `appliance --help` lists is
# in that table. Fast: builds nothing, runs only --help.
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

DOCS=(README.md docs/*.md)

# links FILE: one line "TARGET" per inline link [text](target) of FILE, outside fenced code
# blocks and inline code spans; images and autolinks too. Targets with a scheme or mailto: are
# left out (only the tree's own links are checked).
links() {
    awk '
        /^[ \t]*(```|~~~)/ { fence = !fence; next }
        fence { next }
        {
            line = $0
            gsub(/`[^`]*`/, "", line)
            while (match(line, /\]\([^) \t]+(\)|[ \t]+"[^"]*"\))/)) {
                t = substr(line, RSTART + 2, RLENGTH - 3)
                sub(/[ \t]+"[^"]*"$/, "", t)
                print t
                line = substr(line, RSTART + RLENGTH)
            }
        }' "$1" | grep -vE '^[A-Za-z][A-Za-z0-9+.-]*:'
}

# anchors FILE: the anchor of every heading of FILE (outside code blocks), as GitHub makes them:
# lower case, punctuation but '-' and '_' dropped, each space a '-'; a repeated one gets -1, -2...
anchors() {
    awk '
        /^[ \t]*(```|~~~)/ { fence = !fence; next }
        fence { next }
        /^#+[ \t]/ {
            h = $0
            sub(/^#+[ \t]+/, "", h)
            sub(/[ \t]+#+[ \t]*$/, "", h)
            h = tolower(h)
            gsub(/[^a-z0-9 _-]/, "", h)
            gsub(/ /, "-", h)
            if (h in seen) { seen[h]++; print h "-" seen[h] } else { seen[h] = 0; print h }
        }' "$1"
}

total=0
for doc in "${DOCS[@]}"; do
    [ -f "$doc" ] || continue
    dir=$(dirname "$doc")
    bad=0 n=0
    while IFS= read -r target; do
        n=$((n + 1))
        path=${target%%#*}
        anchor=
        [[ $target == *#* ]] && anchor=${target#*#}
        if [ -z "$path" ]; then
            file=$doc
        elif [ "$dir" = . ]; then
            file=$path
        else
            file=$dir/$path
        fi
        if [ ! -e "$file" ]; then
            fail "$doc: link '$target': $file does not exist"
            bad=$((bad + 1))
            continue
        fi
        if [ -n "$anchor" ]; then
            if [ ! -f "$file" ] || [[ $file != *.md ]]; then
                fail "$doc: link '$target': an anchor into $file, which is not a Markdown file"
                bad=$((bad + 1))
            elif ! anchors "$file" | grep -qxF -- "$anchor"; then
                fail "$doc: link '$target': $file has no heading with the anchor #$anchor"
                bad=$((bad + 1))
            fi
        fi
    done < <(links "$doc")
    total=$((total + n))
    [ "$bad" -eq 0 ] && pass "$doc: its $n relative links resolve"
done
# A checker that finds nothing to check has checked nothing.
check "found relative links to check in README.md and docs/ ($total)" test "$total" -ge 10
check "the README links into docs/" grep -qE '\]\(docs/[a-z-]+\.md' README.md

# The verb table: the rows of the table under "## Verbs" whose first cell is `VERB` or
# `VERB SUB-VERB`.
mapfile -t VERBS < <(awk '
    /^## / { in_verbs = ($0 == "## Verbs"); next }
    in_verbs && /^\| `[a-z][a-z0-9 -]*` \|/ {
        v = $0
        sub(/^\| `/, "", v)
        sub(/` \|.*/, "", v)
        print v
    }' README.md)
check "README.md's verb table lists verbs (${#VERBS[@]})" test "${#VERBS[@]}" -ge 5

for v in "${VERBS[@]}"; do
    read -ra words <<<"$v"
    run "$APPLIANCE" "${words[@]}" --help
    expect_rc 0 "appliance $v --help exits 0"
    check "appliance $v --help prints its usage on stdout" test -s "$TMP/stdout"
done

# The other way round: a verb the binary has but the README does not list is a stale README.
run "$APPLIANCE" --help
expect_rc 0 "appliance --help exits 0"
mapfile -t HAVE < <(awk '/^Verbs:/ { on = 1; next } on && /^$/ { on = 0 } on { print $1 }' "$TMP/stdout")
check "appliance --help lists verbs (${#HAVE[@]})" test "${#HAVE[@]}" -ge 5
for h in "${HAVE[@]}"; do
    listed=0
    for v in "${VERBS[@]}"; do
        [ "${v%% *}" = "$h" ] && listed=1
    done
    check "the README's verb table lists '$h', a verb of appliance --help" test "$listed" -eq 1
done

finish
