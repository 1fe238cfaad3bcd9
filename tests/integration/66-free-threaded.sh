#!/usr/bin/env bash
# Which Python JSON servers run on the free-threaded CPython with Debian's framework packages:
# tried again and compared with the record in images/workloads/servers/python/free-threaded.json
# (frameworks with C extensions built for the GIL interpreter fail to import).
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
record=images/workloads/servers/python/free-threaded.json

run tests/workloads/try-free-threaded
expect_rc 0 "try-free-threaded runs"
check "its output is a JSON array" jqe 'type == "array" and length > 0' "$TMP/stdout"
for fw in $(jq -r '.servers[].framework' "$record"); do
    want=$(jq -r --arg f "$fw" '.servers[] | select(.framework == $f) | .result' "$record")
    got=$(jq -r --arg f "$fw" '.[] | select(.framework == $f) | .result' "$TMP/stdout")
    same "$fw on python-3.13t $want, as recorded" "$got" "$want"
    if [ "$want" = fails ]; then
        err=$(jq -r --arg f "$fw" '.servers[] | select(.framework == $f) | .error' "$record")
        same "$fw: the same error as recorded" \
            "$(jq -r --arg f "$fw" '.[] | select(.framework == $f) | .error' "$TMP/stdout")" "$err"
    fi
done
finish
