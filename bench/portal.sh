#!/usr/bin/env bash
# The portal with many users: a server with N users (default 100,000) in SQLite, the admin
# logged in, then the user list (random pages and prefix searches), the dashboard and the
# call history asked for R times each, one after another, while SIPp callers place
# CALL_RATE calls/s (default 500; 0: no load) through the authenticating proxy to a SIPp
# callee, as bench/run.sh does; prints p50/p99/max in milliseconds of each, and how many
# calls succeeded and failed meanwhile.
#
#   [CALL_RATE=500] bench/portal.sh [BINARY] [USERS] [REQUESTS]
#
# BINARY defaults to target/release/switchboard (build it first; a debug build works too
# and gives figures for that build). Needs curl, sipp and python3. Everything on 127.0.0.1.
set -euo pipefail
BIN=${1:-target/release/switchboard}
USERS=${2:-100000}
REQUESTS=${3:-500}
CALL_RATE=${CALL_RATE:-500}
CALL_HOLD_MS=${CALL_HOLD_MS:-500}
HERE=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/switchboard-portal-bench.XXXXXX)
pid=""; uas=""; uac=""
trap 'kill $uac $uas $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
sip_port=$(( 20000 + RANDOM % 10000 ))
http_port=$(( sip_port + 1 ))
cat > "$dir/sb.toml" <<CONF
[server]
data_dir = "$dir/data"
demo = false
[sip]
listen = ["udp:127.0.0.1:$sip_port"]
udp_workers = 2
[auth]
# As bench/run.sh: the load comes from one address; neither throttling nor a flood ban
max_failures_per_source_user = 1000000
max_failures_per_user = 1000000
max_users_per_source = 1000000
max_unknown_per_source = 1000000
[flood]
enabled = false
[registrar]
max_expires = 3600
[portal]
listen = "127.0.0.1:$http_port"
CONF
sb() { "$BIN" -c "$dir/sb.toml" "$@"; }
sb init >/dev/null
sb domain add bench.test >/dev/null
# Passwords as bench/lib/provision.py gives them (pw-USER), so its SIPp files log in.
awk -v n="$USERS" 'BEGIN { print "callee,bench.test,pw-callee"; for (i = 0; i < n; i++) printf "u%06d,bench.test,pw-u%06d\n", i, i }' > "$dir/users.csv"
sb user import "$dir/users.csv" >/dev/null
sb admin add root --password root-pw >/dev/null
SWITCHBOARD_LOG=warn sb run > "$dir/server.log" 2>&1 &
pid=$!
base="http://127.0.0.1:$http_port"
for _ in $(seq 100); do curl -sf "$base/login" >/dev/null && break; sleep 0.1; done
jar="$dir/jar"

# The call load: a callee registered from the UAS's port, callers from the first users.
if [ "$CALL_RATE" -gt 0 ]; then
    uas_port=$(( sip_port + 2 )); uac_port=$(( sip_port + 3 ))
    callers=$(( USERS < 10000 ? USERS : 10000 ))
    python3 "$HERE/lib/provision.py" users "$callers" bench.test "$dir/callers.csv"
    python3 "$HERE/lib/provision.py" callee 0 bench.test "$dir/callee.csv"
    sipp "127.0.0.1:$sip_port" -sf "$HERE/sipp/uac-register-auth.xml" -inf "$dir/callee.csv" \
        -key domain bench.test -key expires 3600 -i 127.0.0.1 -p "$uas_port" -m 1 \
        -nostdin -nd -timeout 10s -trace_err -error_file "$dir/callee.err" >/dev/null 2>&1 \
        || { echo "registering the callee failed:"; head -20 "$dir/callee.err"; exit 1; }
    count=$(( CALL_RATE * 3600 ))
    sipp -sf "$HERE/sipp/uas-answer.xml" -i 127.0.0.1 -p "$uas_port" -m "$count" \
        -buff_size 4194304 -nostdin -nd -trace_stat -stf "$dir/uas.stat" -fd 1 >/dev/null 2>&1 &
    uas=$!
    sipp "127.0.0.1:$sip_port" -sf "$HERE/sipp/uac-call-auth.xml" -inf "$dir/callers.csv" \
        -key domain bench.test -key callee callee -i 127.0.0.1 -p "$uac_port" \
        -r "$CALL_RATE" -m "$count" -d "$CALL_HOLD_MS" -recv_timeout 5000 -buff_size 4194304 \
        -nostdin -nd -trace_stat -stf "$dir/uac.stat" -fd 1 -trace_err -error_file "$dir/uac.err" \
        >/dev/null 2>&1 &
    uac=$!
    sleep 5   # let the load settle before measuring
fi
token=$(curl -s -c "$jar" "$base/login" | grep -o 'name="csrf" value="[0-9a-f]*"' | head -1 | cut -d'"' -f4)
curl -s -b "$jar" -c "$jar" -o /dev/null --data "csrf=$token&name=root&password=root-pw" "$base/login"

# Prints "p50 p99 max" (ms) of the times (seconds, one per line) on stdin.
stats() { sort -n | awk '{ t[NR] = $1 * 1000 } END {
    p50 = t[int(NR * 0.50) > 0 ? int(NR * 0.50) : 1]; p99 = t[int(NR * 0.99) > 0 ? int(NR * 0.99) : 1]
    printf "p50 %.1f ms, p99 %.1f ms, max %.1f ms (%d requests)\n", p50, p99, t[NR], NR }'; }

timed() { curl -s -b "$jar" -o /dev/null -w '%{http_code} %{time_total}\n' "$base$1"; }
check() { awk '$1 != 200 { bad++ } { print $2 } END { if (bad) { print "non-200 answers: " bad > "/dev/stderr"; exit 1 } }'; }

echo "users: $USERS; $REQUESTS requests each, one at a time; $BIN"
printf 'user list, a random page:    '
for _ in $(seq "$REQUESTS"); do timed "/users?after=u$(printf '%06d' $(( RANDOM * 32768 % USERS + RANDOM % 32768 % USERS )))%40bench.test"; done | check | stats
printf 'user list, a prefix search:  '
for _ in $(seq "$REQUESTS"); do timed "/users?q=u0$(( RANDOM % 10 ))$(( RANDOM % 10 ))"; done | check | stats
printf 'dashboard:                   '
for _ in $(seq "$REQUESTS"); do timed "/dashboard"; done | check | stats
printf 'dashboard figures (JSON):    '
for _ in $(seq "$REQUESTS"); do timed "/api/live"; done | check | stats
printf 'call history, newest page:   '
for _ in $(seq "$REQUESTS"); do timed "/calls"; done | check | stats

if [ -n "$uac" ]; then
    col() { awk -F';' -v c="$2" 'NR==1{for(i=1;i<=NF;i++) if($i==c) k=i} END{print (k? $k : 0)}' "$1"; }
    echo "load: $CALL_RATE calls/s asked; SIPp callers: $(col "$dir/uac.stat" 'SuccessfulCall(C)') calls succeeded, $(col "$dir/uac.stat" 'FailedCall(C)') failed, current rate $(col "$dir/uac.stat" 'CallRate(P)') calls/s"
    [ -s "$dir/uac.err" ] && { echo "first SIPp errors:"; head -5 "$dir/uac.err"; }
fi
