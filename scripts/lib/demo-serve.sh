# Sourced by scripts/tls-scan and scripts/api-fuzz: a demo federation to test against.
#   use_demo [DIR]
# With a DIR that holds a serving demo (MANIFEST.json), uses it. Otherwise builds, runs
# `semctl demo --keep <new dir> --serve` on DEMO_BASE_PORT (default 27300, eleven ports)
# and stops it when the calling script exits. Sets DEMO (the directory) and
# SEM_KEY_PASSPHRASE (the demo's key passphrase), and defines endpoint NAME KEY.

use_demo() {
    if [ -d /opt/swift/usr/bin ]; then export PATH="/opt/swift/usr/bin:$PATH"; fi
    if [ -n "${1:-}" ] && [ -f "$1/MANIFEST.json" ]; then
        DEMO="$(cd "$1" && pwd)"
    else
        swift build --product semctl >/dev/null
        swift build --product semd >/dev/null
        DEMO="$(mktemp -d)/demo"
        local log="$DEMO.log"
        .build/debug/semctl demo --keep "$DEMO" --serve --base-port "${DEMO_BASE_PORT:-27300}" >"$log" 2>&1 &
        DEMO_PID=$!
        trap 'kill "$DEMO_PID" 2>/dev/null; wait "$DEMO_PID" 2>/dev/null; rm -rf "$(dirname "$DEMO")"' EXIT
        local waited=0
        until grep -q "Serving until interrupted" "$log" 2>/dev/null; do
            if ! kill -0 "$DEMO_PID" 2>/dev/null || [ "$waited" -ge 300 ]; then
                tail -20 "$log" >&2
                echo "the demo did not come up (log above)" >&2
                exit 2
            fi
            sleep 1
            waited=$((waited + 1))
        done
    fi
    SEM_KEY_PASSPHRASE="$(head -1 "$DEMO/PASSPHRASE")"
    export SEM_KEY_PASSPHRASE
}

# The address (host:port) of one endpoint in MANIFEST.json, e.g. endpoint alpha.test mail-https.
endpoint() {
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["endpoints"][sys.argv[2]][sys.argv[3]])' \
        "$DEMO/MANIFEST.json" "$1" "$2"
}
