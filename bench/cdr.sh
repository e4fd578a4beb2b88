#!/usr/bin/env bash
# Call records under load: bench/run.sh's `call` phase on Switchboard alone (SQLite, digest
# authentication, CALL_RATE calls per second for CALL_SECS), then the rows of
# `call_records` counted against SIPp's calls once the server has stopped (a clean stop
# writes everything queued). Prints one key=value line; exits 1 when a call has no row.
#
#     bench/cdr.sh                        # 500 calls/s for 20 s, ~1 minute plus the build
#     CALL_RATE=300 CALL_SECS=30 bench/cdr.sh
#
# Every call is INVITE -> 407 -> ACK, then INVITE with credentials: the challenge is a step
# of the set-up, so each SIPp call is one call attempt and one record. Calls SIPp counts as
# failed still got a final answer from the server (or were lost on the way) and have a
# record when the server saw their second INVITE.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export BENCH_WORK=${BENCH_WORK:-$(mktemp -d /tmp/switchboard-cdr.XXXXXX)}
export SERVERS=switchboard PHASES=call SB_CDR=true
export CALL_RATE=${CALL_RATE:-500} CALL_SECS=${CALL_SECS:-20} ROUNDS=${ROUNDS:-1}
export LOAD_USERS=${LOAD_USERS:-2000} MEM_USERS=${MEM_USERS:-2000}

"$HERE/run.sh" >&2
# one line per round (`fixed server=switchboard round=N op=call ...`); the rows of every
# round are in the one database
lines=$(grep "^fixed server=switchboard round=[0-9]* op=call " "$BENCH_WORK/results.txt")
total() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$lines" | awk '{s += $1} END {print s + 0}'; }
ok=$(total ok)
failed=$(total failed)
cpu=$(sed -n "s/.* cpu_us_per_op=\([^ ]*\).*/\1/p" <<<"$lines" | awk '{s += $1; n++} END {printf "%.1f", n ? s / n : 0}')
db="$BENCH_WORK/sb/data/switchboard.db"
read -r rows answered complete open < <(sqlite3 -separator ' ' "$db" \
    "SELECT count(*), sum(answered_ms IS NOT NULL), sum(answered_ms IS NOT NULL AND ended_ms IS NOT NULL), sum(answered_ms IS NOT NULL AND ended_ms IS NULL) FROM call_records")
echo "op=cdr rate=$CALL_RATE secs=$CALL_SECS sipp_ok=$ok sipp_failed=$failed rows=$rows answered_rows=$answered complete_answered_rows=$complete open_rows=$open cpu_us_per_call=$cpu rounds=$(wc -l <<<"$lines") work_dir=$BENCH_WORK"
# Every successful call was answered and hung up: each has a complete row.
[ "$complete" -ge "$ok" ] && [ "$rows" -ge "$ok" ]
