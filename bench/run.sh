#!/usr/bin/env bash
# Load benchmark: Switchboard against Kamailio 5.6 (see bench/README.md).
#
# Installs what is missing (Debian, as root), builds switchboard in release, then for each
# phase runs every server in turn on the same ports:
#   memory       register MEM_USERS distinct users (expires 3600) at MEM_RATE, RSS/PSS per
#                contact right after the load (Timer J state included) and before it
#   register     REGISTER -> 401 -> REGISTER+auth -> 200 at REG_RATE for REG_SECS
#   call         INVITE -> 407 -> ACK, INVITE+auth -> 180/200 -> ACK, BYE -> 200 at CALL_RATE
#   search-reg   register at each rate of SEARCH_REG_STEPS for SEARCH_SECS until unclean
#   search-call  calls at each rate of SEARCH_CALL_STEPS for SEARCH_SECS until unclean
#   gateway-call (Switchboard only) the call phase to a number: the caller's DID goes in
#                From and P-Asserted-Identity and the call leaves through gateway bench-gw
#                (route 49), played by the same SIPp UAS as the callee; side by side with
#                `call` (PHASES="call gateway-call")
#   call-churn   (Switchboard only) the call phase while the CLI makes a provisioning
#                change every CHURN_MS (add a user, forward the callee's busy calls to it,
#                clear that, delete the user): calls must not notice
# and prints key=value lines. The phases run ROUNDS times, the servers alternating within
# each. Every SIPp run is bounded by -m (count) and -timeout (time).
# All traffic goes to 127.0.0.1.
#
# Servers: switchboard (built from SWITCHBOARD_SRC), kamailio (allocator KAM_ALLOC, fm by
# default: Kamailio's faster one; qm is Debian's default), baseline (another Switchboard
# binary, BASELINE_BIN, e.g. an older commit's, on the same config and data: before/after
# in one run).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")

PORT=${BENCH_PORT:-25060}          # the server under test (both, one after the other)
UAC_PORT=${BENCH_UAC_PORT:-25070}  # SIPp client
UAS_PORT=${BENCH_UAS_PORT:-25080}  # SIPp callee
DOMAIN=example.com
SERVERS=${SERVERS:-"switchboard kamailio"}
PHASES=${PHASES:-"memory register call search-reg search-call"}
ROUNDS=${ROUNDS:-2}                # every phase on every server, this many times, alternating
BASELINE_BIN=${BASELINE_BIN:-}     # the binary of server "baseline"
KAM_ALLOC=${KAM_ALLOC:-fm}         # Kamailio's shm and pkg allocator (-x/-X): fm, qm or tlsf
KAM_CHILDREN=${KAM_CHILDREN:-1}    # Kamailio's UDP worker processes (-n): 1 is its cheapest here (bench/README.md)
LOAD_USERS=${LOAD_USERS:-2000}     # users cycled through by the register/call phases
REG_RATE=${REG_RATE:-1000}        # issue 13's reference points: 1,000 registrations/s,
REG_SECS=${REG_SECS:-20}
CALL_RATE=${CALL_RATE:-500}        # 500 calls/s
CALL_SECS=${CALL_SECS:-20}
CALL_HOLD_MS=${CALL_HOLD_MS:-500}  # pause between ACK and BYE
GW_NUMBER=${GW_NUMBER:-4930123456} # gateway-call: the number dialled (route 49 -> bench-gw)
GW_PROBE=${GW_PROBE:-0}            # gateway-call: bench-gw's OPTIONS probe interval (s)
MEM_USERS=${MEM_USERS:-50000}
MEM_RATE=${MEM_RATE:-2000}
# memory is read 3 s after the last registration (what an operator sees at a peak: the
# REGISTER transactions still held for Timer J = 64*T1 = 32 s; this is the per-contact
# figure) and, for Switchboard, again MEM_SETTLE_SECS later, once they are gone
MEM_SETTLE_SECS=${MEM_SETTLE_SECS:-30}
SEARCH_REG_STEPS=${SEARCH_REG_STEPS:-"800 1600 3200 6400"}
SEARCH_CALL_STEPS=${SEARCH_CALL_STEPS:-"400 800 1600 3200"}
# SIPp's socket buffers (-buff_size; the kernel caps it at net.core.rmem_max). At the
# default 208 KB, ~90 datagrams fill SIPp's receive buffer whenever SIPp is descheduled on
# these 2 shared cores, and the kernel drops the server's answers there: SIPp then
# retransmits and the step reads as unclean although the server lost nothing. Each run
# also reports udp_drops, the kernel's UDP receive-buffer overflow count for the window
# (every socket on the machine: SIPp's or the server's).
SIPP_BUFF=${SIPP_BUFF:-4194304}
SEARCH_SECS=${SEARCH_SECS:-5}
CHURN_MS=${CHURN_MS:-100}          # call-churn: pause between two CLI changes
# Switchboard's call records ([cdr] enabled): off like Kamailio's accounting (acc is not
# loaded in kamailio.cfg); bench/cdr.sh turns them on
SB_CDR=${SB_CDR:-false}
KAM_SHM_MB=${KAM_SHM_MB:-256}
KAM_PKG_MB=${KAM_PKG_MB:-64}      # per process; 8 MB cannot preload 50k location rows
SKIP_INSTALL=${SKIP_INSTALL:-0}
SKIP_BUILD=${SKIP_BUILD:-0}
# the tree to build (default: this checkout); e.g. an exported commit
#   git archive HEAD | tar -x -C /tmp/sb-src; SWITCHBOARD_SRC=/tmp/sb-src bench/run.sh
# when others edit the working tree meanwhile
SWITCHBOARD_SRC=${SWITCHBOARD_SRC:-$ROOT}
WORK=${BENCH_WORK:-$(mktemp -d /tmp/switchboard-bench.XXXXXX)}
mkdir -p "$WORK"
RESULTS="$WORK/results.txt"
: > "$RESULTS"
T0=$(date +%s)

log() { echo "# $(date +%H:%M:%S) $*" >&2; }
out() { echo "$*" | tee -a "$RESULTS"; }

# ---------------------------------------------------------------- install & build
install_missing() {
    [ "$SKIP_INSTALL" = 1 ] && return 0
    local need=()
    command -v sipp >/dev/null || need+=(sip-tester)
    command -v kamailio >/dev/null || need+=(kamailio)
    dpkg -s kamailio-sqlite-modules >/dev/null 2>&1 || need+=(kamailio-sqlite-modules)
    command -v sqlite3 >/dev/null || need+=(sqlite3)
    command -v python3 >/dev/null || need+=(python3)
    command -v pgrep >/dev/null || need+=(procps)
    command -v ss >/dev/null || need+=(iproute2)
    if [ ${#need[@]} -gt 0 ]; then
        log "installing ${need[*]}"
        [ "$(id -u)" = 0 ] || { echo "need root to install ${need[*]}" >&2; exit 1; }
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
    fi
    # the Debian package may start a system kamailio on 5060; ours uses $PORT, but do
    # not leave a packaged instance in the way of the measurement
    if pgrep -x kamailio >/dev/null; then
        log "warning: a kamailio is already running (pids $(pgrep -x kamailio | tr '\n' ' ')): it will share the CPU"
    fi
}

SB_BIN=""
BL_BIN=""
build() {
    if [[ " $SERVERS " == *" baseline "* ]]; then
        [ -x "$BASELINE_BIN" ] || { echo "server baseline needs BASELINE_BIN (a switchboard binary)" >&2; exit 1; }
        cp "$BASELINE_BIN" "$WORK/baseline"
        BL_BIN="$WORK/baseline"
    fi
    [[ " $SERVERS " == *" switchboard "* ]] || return 0
    local target=${CARGO_TARGET_DIR:-$SWITCHBOARD_SRC/target}
    if [ "$SKIP_BUILD" != 1 ]; then
        log "building switchboard (release) in $SWITCHBOARD_SRC"
        (cd "$SWITCHBOARD_SRC" && cargo build --release -p server >&2)
    fi
    [ -x "$target/release/switchboard" ] || { echo "no $target/release/switchboard" >&2; exit 1; }
    # a private copy: a concurrent build in a shared target dir must not swap it mid-run
    cp "$target/release/switchboard" "$WORK/switchboard"
    SB_BIN="$WORK/switchboard"
}

# ---------------------------------------------------------------- /proc accounting
CLK_TCK=$(getconf CLK_TCK)
SERVER=""        # name of the running server
SERVER_MAIN=""   # its main pid
CUR_BIN=""       # the Switchboard binary running (switchboard or baseline)

# true for the servers that are a Switchboard binary
is_sb() { [ "$1" = switchboard ] || [ "$1" = baseline ]; }

server_pids() {
    [ -n "$SERVER_MAIN" ] || return 0
    echo "$SERVER_MAIN"
    if [ "$SERVER" = kamailio ]; then pgrep -P "$SERVER_MAIN" || true; fi
}

# "utime stime" ticks, each summed over every process of the server (threads included)
cpu_ticks() {
    local u=0 k=0 p f
    for p in $(server_pids); do
        f=$(cat "/proc/$p/stat" 2>/dev/null) || continue
        f=${f##*) }   # fields after "(comm) "; utime/stime are fields 14/15 -> 12/13 here
        set -- $f
        u=$((u + ${12}))
        k=$((k + ${13}))
    done
    echo "$u $k"
}

# "rss_kb pss_kb" summed over the server's processes (PSS splits shared pages, so it
# does not count Kamailio's shared memory once per process)
mem_kb() {
    local rss=0 pss=0 p r s
    for p in $(server_pids); do
        r=$(awk '/^VmRSS:/{print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
        s=$(awk '/^Pss:/{print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
        rss=$((rss + ${r:-0})); pss=$((pss + ${s:-0}))
    done
    echo "$rss $pss"
}

kam_shm_used() {
    kamcmd -s "unix:$WORK/kam/kamailio_ctl" core.shmmem 2>/dev/null \
        | awk '/real_used:/{print $2}' || echo 0
}

# ---------------------------------------------------------------- servers
SB_SET_UP=0
setup_baseline() { setup_switchboard; }   # the same config and database
setup_switchboard() {
    local d="$WORK/sb" bin=${SB_BIN:-$BL_BIN}
    [ "$SB_SET_UP" = 1 ] && return 0
    SB_SET_UP=1
    mkdir -p "$d/data"
    cat > "$d/switchboard.toml" <<EOF
[server]
data_dir = "$d/data"
demo = false
log_format = "text"
shutdown_grace_secs = 2

[sip]
listen = ["udp:127.0.0.1:$PORT"]

[auth]
enabled = true
algorithms = ["MD5", "SHA-256"]
# Kamailio's config has no brute-force throttling (pike not loaded); do not let an
# overload turn into a ban of 127.0.0.1 for the rest of the run
max_failures_per_source_user = 1000000
max_failures_per_user = 1000000
max_users_per_source = 1000000
max_unknown_per_source = 1000000

[flood]
# nor a flood ban: the load comes from one address (Kamailio runs without pike too)
enabled = false

[registrar]
max_expires = 3600

[portal]
# off: the load is SIP, and a shared machine may hold the default port 8080
listen = ""

[cdr]
enabled = $SB_CDR
EOF
    "$bin" -c "$d/switchboard.toml" init >"$d/provision.log" 2>&1
    "$bin" -c "$d/switchboard.toml" domain add "$DOMAIN" >>"$d/provision.log" 2>&1
    python3 "$HERE/lib/provision.py" sb "$MEM_USERS" "$DOMAIN" "$d/data/switchboard.db"
    # the gateway-call phase: a gateway (the callee UAS's port), a route to it, and a DID
    # per load user as its caller ID (there in every phase, so `call` and `gateway-call`
    # run on the same configuration)
    "$bin" -c "$d/switchboard.toml" gateway add bench-gw "127.0.0.1:$UAS_PORT" --probe "$GW_PROBE" >>"$d/provision.log" 2>&1
    "$bin" -c "$d/switchboard.toml" route add 49 bench-gw >>"$d/provision.log" 2>&1
    python3 "$HERE/lib/provision.py" dids "$LOAD_USERS" "$DOMAIN" "$d/data/switchboard.db"
}

setup_kamailio() {
    local d="$WORK/kam" f
    mkdir -p "$d"
    rm -f "$d/kamailio.sqlite"
    for f in standard auth_db usrloc registrar; do
        sqlite3 "$d/kamailio.sqlite" < "/usr/share/kamailio/db_sqlite/$f-create.sql"
    done
    # WAL like Switchboard's pool (journal_mode is persistent in the file; Kamailio 5.6's
    # db_sqlite cannot set synchronous, so it stays at SQLite's default FULL)
    sqlite3 "$d/kamailio.sqlite" "PRAGMA journal_mode=WAL;" >/dev/null
    python3 "$HERE/lib/provision.py" kam "$MEM_USERS" "$DOMAIN" "$d/kamailio.sqlite"
}

# Switchboard binds with SO_REUSEPORT: another process on the port would silently take
# a share of the load, so insist the ports are free and that the socket is our server's
ports_free() {
    local p
    for p in "$PORT" "$UAC_PORT" "$UAS_PORT"; do
        if [ -n "$(ss -Hulnp "sport = :$p" 2>/dev/null)" ]; then
            echo "udp port $p is in use:" >&2
            ss -Hulnp "sport = :$p" >&2
            exit 1
        fi
    done
}

# another process that bound the port meanwhile (SO_REUSEPORT: e.g. a test's server on the
# same port) took part of the load: the run is void
port_alone() {
    local other
    other=$(ss -Hulnp "sport = :$PORT" 2>/dev/null | grep -v "pid=$SERVER_MAIN," || true)
    if [ "$SERVER" = kamailio ]; then
        other=$(echo "$other" | grep -v '"kamailio"' || true)
    fi
    if [ -n "$other" ]; then
        echo "another process shares udp $PORT, this run is void:" >&2
        echo "$other" >&2
        exit 1
    fi
}

wait_port() {
    local i
    for i in $(seq 1 100); do
        ss -Hulnp "sport = :$PORT" 2>/dev/null | grep -q "pid=$SERVER_MAIN," && return 0
        sleep 0.1
    done
    echo "server $1 did not bind udp $PORT" >&2
    return 1
}

start_server() {
    SERVER=$1
    ports_free
    # every phase starts with an empty location table (users stay provisioned): the
    # memory phase leaves 50k persisted contacts, which Kamailio's usrloc would preload
    # into every worker's private memory (db_sqlite has no fetch_rows) and fail at -M 64
    case $SERVER in
    switchboard | baseline) sqlite3 "$WORK/sb/data/switchboard.db" "DELETE FROM bindings;" ;;
    kamailio) sqlite3 "$WORK/kam/kamailio.sqlite" "DELETE FROM location;" ;;
    esac
    case $SERVER in
    switchboard | baseline)
        CUR_BIN=$SB_BIN
        [ "$SERVER" = baseline ] && CUR_BIN=$BL_BIN
        "$CUR_BIN" -c "$WORK/sb/switchboard.toml" run >>"$WORK/sb/$SERVER.log" 2>&1 &
        SERVER_MAIN=$!
        wait_port "$SERVER"
        ;;
    kamailio)
        rm -f "$WORK/kam/kamailio.pid"
        local logged
        logged=0
        if [ -f "$WORK/kam/server.log" ]; then logged=$(wc -l < "$WORK/kam/server.log"); fi
        kamailio -f "$HERE/kamailio/kamailio.cfg" -P "$WORK/kam/kamailio.pid" -E \
            -x "$KAM_ALLOC" -X "$KAM_ALLOC" -n "$KAM_CHILDREN" \
            -l "udp:127.0.0.1:$PORT" -m "$KAM_SHM_MB" -M "$KAM_PKG_MB" \
            -A "DBURL=\"sqlite://$WORK/kam/kamailio.sqlite\"" \
            -A "CTLSOCK=\"unix:$WORK/kam/kamailio_ctl\"" >>"$WORK/kam/server.log" 2>&1
        SERVER_MAIN=$(cat "$WORK/kam/kamailio.pid")
        wait_port kamailio
        sleep 2
        # a child that fails to initialise (e.g. usrloc preload out of pkg memory) leaves
        # the main process and its socket up: check the log
        if tail -n +"$((logged + 1))" "$WORK/kam/server.log" | grep -E "CRITICAL|Cannot fork|init_child failed" >&2; then
            echo "kamailio did not start cleanly, see $WORK/kam/server.log" >&2
            exit 1
        fi
        ;;
    esac
    sleep 1
}

stop_server() {
    [ -n "$SERVER_MAIN" ] || return 0
    if is_sb "$SERVER"; then
        "$CUR_BIN" -c "$WORK/sb/switchboard.toml" --json status > "$WORK/sb/status-$SERVER-$PHASE-$ROUND.json" 2>&1 || true
    fi
    kill -TERM "$SERVER_MAIN" 2>/dev/null || true
    local i
    for i in $(seq 1 300); do   # at most 30 s (Kamailio flushes usrloc to SQLite on exit)
        kill -0 "$SERVER_MAIN" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$SERVER_MAIN" 2>/dev/null || true
    wait "$SERVER_MAIN" 2>/dev/null || true
    SERVER_MAIN=""
    sleep 0.5
}

cleanup() {
    [ -n "${UAS_PID:-}" ] && kill "$UAS_PID" 2>/dev/null || true
    stop_server || true
}
trap cleanup EXIT

status_json() {   # Switchboard's counters, for the record
    "$CUR_BIN" -c "$WORK/sb/switchboard.toml" --json status > "$WORK/$1.status.json" 2>&1 || true
}

# the kernel's count of UDP datagrams dropped because a receive buffer was full
udp_rcvbuf_errors() {
    awk '/^Udp:/ { if (!h) { for (i = 2; i <= NF; i++) if ($i == "RcvbufErrors") c = i; h = 1 }
                   else { print $c; exit } }' /proc/net/snmp
}

# ---------------------------------------------------------------- SIPp
# value of a named column in the last line of a SIPp -trace_stat file
stat_col() {
    awk -F';' -v col="$2" 'NR==1{for(i=1;i<=NF;i++) if($i==col) c=i} END{print (c? $c : 0)}' "$1"
}

# run_uac SCENARIO CSV RATE COUNT TAG [extra sipp args] -> sets OK FAILED RETRANS ELAPSED
run_uac() {
    local scen=$1 csv=$2 rate=$3 count=$4 tag=$5
    shift 5
    local st="$WORK/$tag.stat" limit
    limit=$((count / rate + 30))
    rm -f "$st"
    timeout $((limit + 10)) sipp "127.0.0.1:$PORT" -sf "$HERE/sipp/$scen" -inf "$csv" \
        -key domain "$DOMAIN" -key expires 3600 -key callee "${CALLEE:-callee}" \
        -i 127.0.0.1 -p "$UAC_PORT" -r "$rate" -m "$count" -timeout "${limit}s" \
        -recv_timeout 5000 -buff_size "$SIPP_BUFF" -nostdin -nd -trace_stat -stf "$st" -fd 1 \
        -trace_err -error_file "$WORK/$tag.err" -trace_screen -screen_file "$WORK/$tag.screen" \
        "$@" >/dev/null 2>&1 || true
    OK=$(stat_col "$st" 'SuccessfulCall(C)')
    FAILED=$(stat_col "$st" 'FailedCall(C)')
    RETRANS=$(stat_col "$st" 'Retransmissions(C)')
    # calls that never completed (SIPp stopped by -timeout) count as failed
    FAILED=$((FAILED + (count - OK - FAILED > 0 ? count - OK - FAILED : 0)))
}

register_callee() {
    python3 "$HERE/lib/provision.py" callee 0 "$DOMAIN" "$WORK/callee.csv"
    local save_port=$UAC_PORT
    UAC_PORT=$UAS_PORT
    run_uac uac-register-auth.xml "$WORK/callee.csv" 1 1 "$SERVER-callee"
    UAC_PORT=$save_port
    [ "$OK" = 1 ] || log "warning: registering callee on $SERVER failed"
}

start_uas() {
    local count=$1 tag=$2 limit=$3
    rm -f "$WORK/$tag-uas.stat"
    timeout $((limit + 10)) sipp -sf "$HERE/sipp/uas-answer.xml" -i 127.0.0.1 -p "$UAS_PORT" \
        -m "$count" -timeout "${limit}s" -buff_size "$SIPP_BUFF" -nostdin -nd -trace_stat -stf "$WORK/$tag-uas.stat" -fd 1 \
        -trace_err -error_file "$WORK/$tag-uas.err" >/dev/null 2>&1 &
    UAS_PID=$!
    sleep 0.5
}

stop_uas() {
    sleep 1
    kill "$UAS_PID" 2>/dev/null || true
    wait "$UAS_PID" 2>/dev/null || true
    UAS_PID=""
}

# one measured load run: sets OK FAILED RETRANS UDP_DROPS CPU_US_PER_OP (its user and
# kernel parts in USER_US_PER_OP, SYS_US_PER_OP) WALL
measure() {   # op rate secs tag
    local op=$1 rate=$2 secs=$3 tag=$4 count u0 k0 u1 k1 t0 t1 d0 uas_retrans=0
    count=$((rate * secs))
    if [ "$op" = call ] || [ "$op" = gateway-call ]; then
        start_uas "$count" "$tag" $((secs + 40))
    fi
    d0=$(udp_rcvbuf_errors); read -r u0 k0 < <(cpu_ticks); t0=$(date +%s.%N)
    if [ "$op" = call ]; then
        run_uac uac-call-auth.xml "$WORK/users.csv" "$rate" "$count" "$tag" -d "$CALL_HOLD_MS"
    elif [ "$op" = gateway-call ]; then
        CALLEE=$GW_NUMBER run_uac uac-call-auth.xml "$WORK/users.csv" "$rate" "$count" "$tag" -d "$CALL_HOLD_MS"
    else
        run_uac uac-register-auth.xml "$WORK/users.csv" "$rate" "$count" "$tag"
    fi
    sleep 1   # let write-behind / timers finish the work of the window
    read -r u1 k1 < <(cpu_ticks); t1=$(date +%s.%N); UDP_DROPS=$(( $(udp_rcvbuf_errors) - d0 ))
    port_alone
    is_sb "$SERVER" && status_json "$tag"
    if [ "$op" = call ] || [ "$op" = gateway-call ]; then
        stop_uas
        uas_retrans=$(stat_col "$WORK/$tag-uas.stat" 'Retransmissions(C)')
        RETRANS=$((RETRANS + uas_retrans))
    fi
    WALL=$(python3 -c "print($t1-$t0)")
    per_op() { python3 -c "ok=$OK; print('%.1f' % (($1)*1e6/$CLK_TCK/ok) if ok else 'nan')"; }
    CPU_US_PER_OP=$(per_op "$u1 - $u0 + $k1 - $k0")
    USER_US_PER_OP=$(per_op "$u1 - $u0")
    SYS_US_PER_OP=$(per_op "$k1 - $k0")
}

# ---------------------------------------------------------------- phases
phase_memory() {
    local s=$1 shm0=0 shm1=0 rb pb ra pa
    python3 "$HERE/lib/provision.py" users "$MEM_USERS" "$DOMAIN" "$WORK/mem-users.csv"
    read -r rb pb < <(mem_kb)
    [ "$s" = kamailio ] && shm0=$(kam_shm_used)
    local d0
    d0=$(udp_rcvbuf_errors)
    run_uac uac-register-auth.xml "$WORK/mem-users.csv" "$MEM_RATE" "$MEM_USERS" "$s-memory-$ROUND"
    UDP_DROPS=$(( $(udp_rcvbuf_errors) - d0 ))
    sleep 3   # write-behind / usrloc timer
    local r3 p3 shm3=0 extra=""
    read -r r3 p3 < <(mem_kb)
    [ "$s" = kamailio ] && shm3=$(kam_shm_used)
    is_sb "$s" && status_json "$s-memory-3s-$ROUND"
    # then the server transactions of the load (Timer J = 32 s) expire; Kamailio answers
    # REGISTER statelessly (sl) and holds none (its 3 s and settled readings were the same
    # to the kilobyte when it waited too), so it does not wait
    is_sb "$s" && sleep "$MEM_SETTLE_SECS"
    read -r ra pa < <(mem_kb)
    is_sb "$s" && status_json "$s-memory-settled-$ROUND"
    per() { python3 -c "print('%.0f' % (($2-$1)*$3/max($OK,1)))"; }
    if [ "$s" = kamailio ]; then
        shm1=$(kam_shm_used)
        extra="alloc=$KAM_ALLOC shm_mb=$KAM_SHM_MB pkg_mb=$KAM_PKG_MB shm_used_before=$shm0 shm_used_3s=$shm3 shm_used_settled=$shm1 shm_bytes_per_contact=$(per "$shm0" "$shm3" 1) processes=$(server_pids | wc -l)"
    fi
    # pss_bytes_per_contact: right after the load (3 s), Timer J state included
    out "server=$s round=$ROUND op=memory contacts=$MEM_USERS rate=$MEM_RATE ok=$OK failed=$FAILED retrans=$RETRANS udp_drops=$UDP_DROPS rss_kb_before=$rb rss_kb_3s=$r3 rss_kb_settled=$ra pss_kb_before=$pb pss_kb_3s=$p3 pss_kb_settled=$pa rss_bytes_per_contact=$(per "$rb" "$r3" 1024) pss_bytes_per_contact=$(per "$pb" "$p3" 1024) rss_bytes_per_contact_settled=$(per "$rb" "$ra" 1024) pss_bytes_per_contact_settled=$(per "$pb" "$pa" 1024) $extra"
}

phase_fixed() {   # server op rate secs
    local s=$1 op=$2 rate=$3 secs=$4
    measure "$op" "$rate" "$secs" "$s-$op-fixed-$ROUND"
    out "fixed server=$s round=$ROUND op=$op rate=$rate secs=$secs ok=$OK failed=$FAILED retrans=$RETRANS udp_drops=$UDP_DROPS cpu_us_per_op=$CPU_US_PER_OP user_us_per_op=$USER_US_PER_OP sys_us_per_op=$SYS_US_PER_OP"
}

phase_search() {  # server op steps
    local s=$1 op=$2 steps=$3 rate best=0
    for rate in $steps; do
        measure "$op" "$rate" "$SEARCH_SECS" "$s-$op-search-$rate-$ROUND"
        out "step server=$s round=$ROUND op=$op rate=$rate secs=$SEARCH_SECS ok=$OK failed=$FAILED retrans=$RETRANS udp_drops=$UDP_DROPS cpu_us_per_op=$CPU_US_PER_OP wall_s=$(printf %.1f "$WALL")"
        if [ "$FAILED" = 0 ] && [ "$RETRANS" = 0 ] && [ "$OK" = $((rate * SEARCH_SECS)) ]; then
            best=$rate
        else
            break
        fi
        sleep 1
    done
    out "search server=$s round=$ROUND op=$op max_clean_rate=$best"
}

# a provisioning change through the CLI every CHURN_MS until killed; writes
# "changes failures" to $WORK/churn.count after each
churn_loop() {
    local conf="$WORK/sb/switchboard.toml" i=0 fails=0 pause
    pause=$(python3 -c "print($CHURN_MS/1000)")
    while :; do
        case $((i % 4)) in
        0) set -- user add "churn@$DOMAIN" --password pw-churn ;;
        1) set -- forward set "callee@$DOMAIN" busy "churn@$DOMAIN" ;;
        2) set -- forward clear "callee@$DOMAIN" ;;
        3) set -- user del "churn@$DOMAIN" ;;
        esac
        "$CUR_BIN" -c "$conf" "$@" >/dev/null 2>>"$WORK/churn.err" || fails=$((fails + 1))
        i=$((i + 1))
        echo "$i $fails" > "$WORK/churn.count.new"
        mv "$WORK/churn.count.new" "$WORK/churn.count"   # whole, even when killed
        sleep "$pause"
    done
}

phase_churn() {   # server
    local s=$1 changes fails churn_pid
    if ! is_sb "$s"; then
        log "call-churn: Switchboard only, skipped on $s"
        return 0
    fi
    echo "0 0" > "$WORK/churn.count"
    churn_loop &
    churn_pid=$!
    measure call "$CALL_RATE" "$CALL_SECS" "$s-call-churn-$ROUND"
    kill "$churn_pid" 2>/dev/null || true
    wait "$churn_pid" 2>/dev/null || true
    read -r changes fails < "$WORK/churn.count" || true
    out "server=$s round=$ROUND op=call-churn rate=$CALL_RATE secs=$CALL_SECS ok=$OK failed=$FAILED retrans=$RETRANS udp_drops=$UDP_DROPS cpu_us_per_op=$CPU_US_PER_OP changes=$changes change_failures=$fails churn_ms=$CHURN_MS"
}

# ---------------------------------------------------------------- main
install_missing
build
log "work dir $WORK"
python3 "$HERE/lib/provision.py" users "$LOAD_USERS" "$DOMAIN" "$WORK/users.csv"
for s in $SERVERS; do "setup_$s"; done
UAS_PID=""

for ROUND in $(seq 1 "$ROUNDS"); do
    for PHASE in $PHASES; do
        for s in $SERVERS; do
            log "round $ROUND phase $PHASE on $s"
            start_server "$s"
            case $PHASE in
            memory) phase_memory "$s" ;;
            register) phase_fixed "$s" register "$REG_RATE" "$REG_SECS" ;;
            call) register_callee; phase_fixed "$s" call "$CALL_RATE" "$CALL_SECS" ;;
            search-reg) phase_search "$s" register "$SEARCH_REG_STEPS" ;;
            search-call) register_callee; phase_search "$s" call "$SEARCH_CALL_STEPS" ;;
            call-churn) register_callee; phase_churn "$s" ;;
            gateway-call)
                if is_sb "$s"; then
                    phase_fixed "$s" gateway-call "$CALL_RATE" "$CALL_SECS"
                else
                    log "gateway-call: Switchboard only, skipped on $s"
                fi ;;
            esac
            stop_server
        done
    done
done

# means over the rounds, per operation and rate, and each server's ratio to kamailio
python3 "$HERE/lib/summary.py" "$RESULTS" | tee -a "$RESULTS"
out "run_seconds=$(( $(date +%s) - T0 )) work_dir=$WORK clk_tck=$CLK_TCK nproc=$(nproc) rounds=$ROUNDS kam_alloc=$KAM_ALLOC kam_children=$KAM_CHILDREN sb_cdr=$SB_CDR commit=$(cat "$SWITCHBOARD_SRC/.bench-commit" 2>/dev/null || git -C "$SWITCHBOARD_SRC" rev-parse HEAD 2>/dev/null || echo unknown)"
