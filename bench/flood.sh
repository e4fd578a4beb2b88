#!/usr/bin/env bash
# Flood check (issue 12, "What must show"): an OPTIONS flood of FLOOD_RATE/s from
# 127.0.0.2 for FLOOD_SECS while registrations (REG_RATE/s) and calls (CALL_RATE/s) from
# 127.0.0.3 run against Switchboard with its default protections ([flood] on, nothing
# exempt, ban_action = "drop"). Prints key=value lines: the flood's requests and answers,
# the legitimate load's failed calls and retransmissions, the server's CPU and memory
# (RSS/PSS) before and after, and its ban metrics. See bench/README.md.
#
# Needs sipp, sqlite3, python3 (bench/run.sh installs them). All traffic stays on
# 127.0.0.0/8: the server on 127.0.0.1, the attacker on 127.0.0.2, the office on 127.0.0.3.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")

PORT=${BENCH_PORT:-25160}
UAC_PORT=${BENCH_UAC_PORT:-25170}     # registrations (127.0.0.3)
CALL_PORT=${BENCH_CALL_PORT:-25171}   # calls (127.0.0.3)
UAS_PORT=${BENCH_UAS_PORT:-25180}     # the callee (127.0.0.1)
FLOOD_PORT=${BENCH_FLOOD_PORT:-25190} # the attacker (127.0.0.2)
METRICS_PORT=${BENCH_METRICS_PORT:-25199}
DOMAIN=example.com
USERS=${USERS:-2000}
FLOOD_RATE=${FLOOD_RATE:-5000}
FLOOD_SECS=${FLOOD_SECS:-20}
REG_RATE=${REG_RATE:-20}
CALL_RATE=${CALL_RATE:-10}
CALL_HOLD_MS=${CALL_HOLD_MS:-500}
SIPP_BUFF=${SIPP_BUFF:-4194304}
SKIP_BUILD=${SKIP_BUILD:-0}
FLOOD_LIMITER=${FLOOD_LIMITER:-true}   # false: the same run without the limiter, for reference
SWITCHBOARD_SRC=${SWITCHBOARD_SRC:-$ROOT}
WORK=${BENCH_WORK:-$(mktemp -d /tmp/switchboard-flood.XXXXXX)}
mkdir -p "$WORK/sb/data"

log() { echo "# $(date +%H:%M:%S) $*" >&2; }

if [ "$SKIP_BUILD" != 1 ]; then
    log "building switchboard (release) in $SWITCHBOARD_SRC"
    (cd "$SWITCHBOARD_SRC" && cargo build --release -p server >&2)
fi
TARGET=${CARGO_TARGET_DIR:-$SWITCHBOARD_SRC/target}
cp "$TARGET/release/switchboard" "$WORK/switchboard"
SB="$WORK/switchboard"

cat > "$WORK/sb/switchboard.toml" <<TOML
[server]
data_dir = "$WORK/sb/data"
demo = false
shutdown_grace_secs = 2

[sip]
listen = ["udp:127.0.0.1:$PORT"]

[auth]
enabled = true
algorithms = ["MD5"]

[metrics]
listen = "127.0.0.1:$METRICS_PORT"

# [flood] and [security]: the defaults (max_requests = 300 per 2 s, ban 60 s, drop)
[flood]
enabled = $FLOOD_LIMITER
TOML
"$SB" -c "$WORK/sb/switchboard.toml" init >"$WORK/provision.log" 2>&1
"$SB" -c "$WORK/sb/switchboard.toml" domain add "$DOMAIN" >>"$WORK/provision.log" 2>&1
python3 "$HERE/lib/provision.py" sb "$USERS" "$DOMAIN" "$WORK/sb/data/switchboard.db"
python3 "$HERE/lib/provision.py" users "$USERS" "$DOMAIN" "$WORK/users.csv"
python3 "$HERE/lib/provision.py" callee 0 "$DOMAIN" "$WORK/callee.csv"

SERVER=""
UAS=""
cleanup() {
    [ -n "$UAS" ] && kill "$UAS" 2>/dev/null || true
    [ -n "$SERVER" ] && kill -TERM "$SERVER" 2>/dev/null || true
    wait 2>/dev/null || true
}
trap cleanup EXIT

"$SB" -c "$WORK/sb/switchboard.toml" run >>"$WORK/sb/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do
    "$SB" -c "$WORK/sb/switchboard.toml" status >/dev/null 2>&1 && break
    sleep 0.1
done

CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { local f; f=$(cat "/proc/$SERVER/stat"); f=${f##*) }; set -- $f; echo $((${12} + ${13})); }
mem_kb() {
    echo "$(awk '/^VmRSS:/{print $2}' "/proc/$SERVER/status") $(awk '/^Pss:/{print $2}' "/proc/$SERVER/smaps_rollup")"
}
stat_col() {
    awk -F';' -v col="$2" 'NR==1{for(i=1;i<=NF;i++) if($i==col) c=i} END{print (c? $c : 0)}' "$1"
}
udp_rcvbuf_errors() {
    awk '/^Udp:/ { if (!h) { for (i = 2; i <= NF; i++) if ($i == "RcvbufErrors") c = i; h = 1 }
                   else { print $c; exit } }' /proc/net/snmp
}
metric() {
    python3 - "$METRICS_PORT" "$1" <<'PY'
import sys, urllib.request
text = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5).read().decode()
print(sum(float(l.split()[-1]) for l in text.splitlines()
          if l.startswith(sys.argv[2]) and not l.startswith("#")) if text else 0)
PY
}
sipp_run() {   # tag ip port scenario rate count [args]
    local tag=$1 ip=$2 port=$3 scen=$4 rate=$5 count=$6
    shift 6
    timeout $((count / rate + 60)) sipp "127.0.0.1:$PORT" -sf "$scen" -i "$ip" -p "$port" \
        -key domain "$DOMAIN" -key expires 3600 -key callee callee \
        -r "$rate" -m "$count" -timeout "$((count / rate + 40))s" -buff_size "$SIPP_BUFF" \
        -nostdin -nd -trace_stat -stf "$WORK/$tag.stat" -fd 1 \
        -trace_err -error_file "$WORK/$tag.err" "$@" >/dev/null 2>&1 || true
}

# the callee registers from 127.0.0.1 and answers every call
sipp_run callee 127.0.0.1 "$UAS_PORT" "$HERE/sipp/uac-register-auth.xml" 1 1 -inf "$WORK/callee.csv"
CALLS=$((CALL_RATE * FLOOD_SECS))
timeout $((FLOOD_SECS + 90)) sipp -sf "$HERE/sipp/uas-answer.xml" -i 127.0.0.1 -p "$UAS_PORT" \
    -m "$CALLS" -timeout "$((FLOOD_SECS + 80))s" -buff_size "$SIPP_BUFF" -nostdin -nd \
    -trace_stat -stf "$WORK/uas.stat" -fd 1 >/dev/null 2>&1 &
UAS=$!
sleep 2
read -r RSS0 PSS0 < <(mem_kb)
C0=$(cpu_ticks); D0=$(udp_rcvbuf_errors); T0=$(date +%s.%N)
log "flood ${FLOOD_RATE}/s from 127.0.0.2 for ${FLOOD_SECS}s; ${REG_RATE} registrations/s and ${CALL_RATE} calls/s from 127.0.0.3"
sipp_run flood 127.0.0.2 "$FLOOD_PORT" "$ROOT/tests/sipp/uac-options-flood-expect-silence.xml" \
    "$FLOOD_RATE" $((FLOOD_RATE * FLOOD_SECS)) &
FLOOD=$!
sleep 1
sipp_run register 127.0.0.3 "$UAC_PORT" "$HERE/sipp/uac-register-auth.xml" \
    "$REG_RATE" $((REG_RATE * (FLOOD_SECS - 2))) -inf "$WORK/users.csv" &
REG=$!
sipp_run call 127.0.0.3 "$CALL_PORT" "$HERE/sipp/uac-call-auth.xml" \
    "$CALL_RATE" $((CALL_RATE * (FLOOD_SECS - 2))) -inf "$WORK/users.csv" -d "$CALL_HOLD_MS"
wait "$REG" "$FLOOD"
T1=$(date +%s.%N); C1=$(cpu_ticks); D1=$(udp_rcvbuf_errors)
read -r RSS1 PSS1 < <(mem_kb)
kill "$UAS" 2>/dev/null || true; UAS=""

echo "flood_limiter=$FLOOD_LIMITER flood_rate=$FLOOD_RATE flood_secs=$FLOOD_SECS flood_sent=$(stat_col "$WORK/flood.stat" 'OutgoingCall(C)') flood_answered=$(stat_col "$WORK/flood.stat" 'SuccessfulCall(C)')"
echo "registrations=$(stat_col "$WORK/register.stat" 'OutgoingCall(C)') reg_ok=$(stat_col "$WORK/register.stat" 'SuccessfulCall(C)') reg_failed=$(stat_col "$WORK/register.stat" 'FailedCall(C)') reg_retrans=$(stat_col "$WORK/register.stat" 'Retransmissions(C)')"
echo "calls=$(stat_col "$WORK/call.stat" 'OutgoingCall(C)') call_ok=$(stat_col "$WORK/call.stat" 'SuccessfulCall(C)') call_failed=$(stat_col "$WORK/call.stat" 'FailedCall(C)') call_retrans=$(stat_col "$WORK/call.stat" 'Retransmissions(C)') uas_retrans=$(stat_col "$WORK/uas.stat" 'Retransmissions(C)')"
echo "server_cpu_pct=$(python3 -c "print('%.1f' % (($C1-$C0)*100/$CLK_TCK/($T1-$T0)))") wall_s=$(python3 -c "print('%.1f' % ($T1-$T0))") udp_rcvbuf_drops=$((D1 - D0))"
echo "rss_kb_before=$RSS0 rss_kb_after=$RSS1 pss_kb_before=$PSS0 pss_kb_after=$PSS1"
echo "flood_bans=$(metric switchboard_flood_bans_total) banned_dropped=$(metric 'switchboard_banned_messages_total{action="dropped"}') bans_active=$(metric switchboard_bans_active)"
grep -E "switchboard: (ban|unban) " "$WORK/sb/server.log" | sed 's/^/log: /' || true
log "work dir: $WORK"
