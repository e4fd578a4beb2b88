#!/usr/bin/env bash
# Instruction counts per operation under callgrind: a noise-free complement to run.sh's
# CPU time (which shares 2 cores with SIPp and other builds). Run bench/run.sh first with
# the same BENCH_WORK: it provisions both servers' databases and copies the binary.
#
#   BENCH_WORK=/tmp/bench-final bench/callgrind.sh
#
# Each server is run three times under valgrind --tool=callgrind (Kamailio's forked
# children too), each run CG_WINDOW seconds long after start-up: idle, CG_REGS
# registrations, CG_CALLS calls (callee registered in every run). Ir per operation =
# (Ir of the run, summed over processes - Ir of the idle run) / operations, so start-up,
# shutdown and timer work cancel out. For Switchboard (one process) collection starts
# only once the server listens (--instr-atstart=no, then callgrind_control -i on): its
# start-up, loading every user from SQLite, varied by more than the work measured.
# Toggling does not reach Kamailio's forked children, hence whole-run counts there.
# Low rates: valgrind is ~50x slower. Every run is bounded.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=${BENCH_WORK:?set BENCH_WORK to run.sh work dir}
PORT=${BENCH_PORT:-25060}; UAC_PORT=${BENCH_UAC_PORT:-25070}; UAS_PORT=${BENCH_UAS_PORT:-25080}
CG_REGS=${CG_REGS:-200}; CG_REG_RATE=${CG_REG_RATE:-20}
CG_CALLS=${CG_CALLS:-100}; CG_CALL_RATE=${CG_CALL_RATE:-10}
KAM_ALLOC=${KAM_ALLOC:-fm}   # Kamailio's allocator, as in run.sh
SERVERS=${SERVERS:-"switchboard kamailio"}
DOMAIN=example.com
CG="$WORK/callgrind"
mkdir -p "$CG"
UAS=""

sipp_uac() { # scenario csv rate count port tag
    timeout $(($4 / $3 + 60)) sipp "127.0.0.1:$PORT" -sf "$HERE/sipp/$1" -inf "$2" \
        -key domain "$DOMAIN" -key expires 3600 -key callee callee -i 127.0.0.1 -p "$5" \
        -r "$3" -m "$4" -timeout "$(($4 / $3 + 50))s" -recv_timeout 10000 -nostdin -nd \
        -trace_stat -stf "$CG/$6.stat" -fd 1 -d 100 >/dev/null 2>&1 || true
    awk -F';' 'NR==1{for(i=1;i<=NF;i++){if($i=="SuccessfulCall(C)")s=i; if($i=="FailedCall(C)")f=i}} END{print $s, $f}' "$CG/$6.stat"
}

CG_WINDOW=${CG_WINDOW:-16}

one_run() { # server kind -> prints "ir ok failed"
    local S=$1 kind=$2 MAIN ok=0 fail=0 t0
    [ -z "$(ss -Hulnp "sport = :$PORT")" ] || { echo "port $PORT busy" >&2; exit 1; }
    rm -f "$CG/$S".*
    case $S in
    switchboard)
        sqlite3 "$WORK/sb/data/switchboard.db" "DELETE FROM bindings;"
        valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$CG/$S.%p" \
            "$WORK/switchboard" -c "$WORK/sb/switchboard.toml" run >"$CG/$S-$kind.log" 2>&1 &
        MAIN=$!
        ;;
    kamailio)
        sqlite3 "$WORK/kam/kamailio.sqlite" "DELETE FROM location;"
        valgrind --tool=callgrind --callgrind-out-file="$CG/$S.%p" \
            kamailio -f "$HERE/kamailio/kamailio.cfg" -DD -E -l "udp:127.0.0.1:$PORT" \
            -x "$KAM_ALLOC" -X "$KAM_ALLOC" -m 256 -M 64 -A "DBURL=\"sqlite://$WORK/kam/kamailio.sqlite\"" \
            -A "CTLSOCK=\"unix:$WORK/kam/kamailio_ctl\"" >"$CG/$S-$kind.log" 2>&1 &
        MAIN=$!
        ;;
    esac
    for _ in $(seq 1 120); do [ -n "$(ss -Hulnp "sport = :$PORT")" ] && break; sleep 0.5; done
    sleep 4
    [ "$S" = switchboard ] && callgrind_control -i on "$MAIN" >/dev/null
    printf 'SEQUENTIAL\ncallee;pw-callee;[authentication username=callee password=pw-callee]\n' > "$CG/callee.csv"
    read -r _ _ < <(sipp_uac uac-register-auth.xml "$CG/callee.csv" 1 1 "$UAS_PORT" "$S-$kind-callee")
    t0=$(date +%s)
    case $kind in
    reg) read -r ok fail < <(sipp_uac uac-register-auth.xml "$WORK/users.csv" "$CG_REG_RATE" "$CG_REGS" "$UAC_PORT" "$S-reg") ;;
    call)
        timeout $((CG_CALLS / CG_CALL_RATE + 70)) sipp -sf "$HERE/sipp/uas-answer.xml" -i 127.0.0.1 -p "$UAS_PORT" \
            -m "$CG_CALLS" -timeout "$((CG_CALLS / CG_CALL_RATE + 60))s" -nostdin -nd >/dev/null 2>&1 &
        UAS=$!
        sleep 0.5
        read -r ok fail < <(sipp_uac uac-call-auth.xml "$WORK/users.csv" "$CG_CALL_RATE" "$CG_CALLS" "$UAC_PORT" "$S-call")
        sleep 1
        kill "$UAS" 2>/dev/null || true; wait "$UAS" 2>/dev/null || true
        ;;
    esac
    while [ $(( $(date +%s) - t0 )) -lt "$CG_WINDOW" ]; do sleep 0.5; done
    kill -TERM "$MAIN" 2>/dev/null || true
    for _ in $(seq 1 120); do kill -0 "$MAIN" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$MAIN" 2>/dev/null || true; wait "$MAIN" 2>/dev/null || true
    sleep 2   # children write their files
    local t=0 f v
    for f in "$CG/$S".*; do
        v=$(awk '/^totals:/{print $2; exit}' "$f")
        t=$((t + ${v:-0}))
    done
    echo "$t $ok $fail"
}

for S in $SERVERS; do
    read -r idle _ _ < <(one_run "$S" idle)
    read -r r rok rfail < <(one_run "$S" reg)
    read -r c cok cfail < <(one_run "$S" call)
    echo "callgrind server=$S ir_idle_run=$idle"
    echo "callgrind server=$S op=register ok=$rok failed=$rfail ir_run=$r ir_per_op=$(( rok > 0 ? (r - idle) / rok : 0 ))"
    echo "callgrind server=$S op=call ok=$cok failed=$cfail ir_run=$c ir_per_op=$(( cok > 0 ? (c - idle) / cok : 0 ))"
done
