#!/usr/bin/env bash
# The Debian package, tested as an admin would meet it: build it, unpack it (dpkg -x into a
# temporary folder; nothing is installed on this host), check its contents, the systemd unit
# (systemd-analyze verify), the man pages against --help, the fail2ban filter and jail
# (fail2ban-regex, fail2ban-client -t), the maintainer scripts (dpkg -i, upgrade and purge
# in a throwaway overlay of /, when root), then start the packaged binary with the packaged
# configuration (data_dir rewritten to a temporary folder, the wildcard listener to a free
# port) and register a SIPp phone through it on 127.0.0.1.
#
# Every wait polls a condition with a bounded timeout; any failed step stops the run with
# a message and a non-zero exit. Installs SIPp, fail2ban and systemd through apt when
# missing (root or sudo).
#
# Usage: scripts/package-test.sh
#   PACKAGE_TEST_PROFILE=dev (default) packages the debug build, which the test suite has
#     built already: a release build (lto) costs minutes of CI. The packaging is the same
#     for both profiles; scripts/package.sh builds the release package.
#   PACKAGE_TEST_KEEP=1 keeps the temporary folder (server log, strace, SIPp traces).
#   PACKAGE_TEST_LIVE_FAIL2BAN=1 (default) also feeds the server's own log of failed logins
#     to the filter (needs the operator log lines of crates/proxy/src/oplog.rs wired in).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

profile=${PACKAGE_TEST_PROFILE:-dev}
live_fail2ban=${PACKAGE_TEST_LIVE_FAIL2BAN:-1}
TIMEOUT=30 # seconds, for every wait

exec 3>&2 # the real stderr, for messages from inside commands whose output is silenced
log() { printf '\n==> package-test: %s\n' "$*" >&3; }
fail() {
    printf '\npackage-test: FAILED: %s\n' "$*" >&3
    exit 1
}

need_apt=()
command -v sipp >/dev/null 2>&1 || need_apt+=(sip-tester)
command -v fail2ban-regex >/dev/null 2>&1 || need_apt+=(fail2ban)
command -v systemd-analyze >/dev/null 2>&1 || need_apt+=(systemd)
command -v man >/dev/null 2>&1 || need_apt+=(man-db)
command -v strace >/dev/null 2>&1 || need_apt+=(strace)
command -v espeak-ng >/dev/null 2>&1 || need_apt+=(espeak-ng)
if [ ${#need_apt[@]} -gt 0 ]; then
    log "installing ${need_apt[*]}"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >&2
fi

tmp=$(mktemp -d /tmp/switchboard-package-test.XXXXXX)
server_pid=""
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    if [ "${PACKAGE_TEST_KEEP:-0}" = 1 ]; then
        printf 'package-test: kept %s\n' "$tmp" >&3
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT

# wait_for DESCRIPTION COMMAND...: polls COMMAND until it succeeds, for at most $TIMEOUT s.
wait_for() {
    local what=$1
    shift
    local deadline=$((SECONDS + TIMEOUT))
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || fail "timed out after ${TIMEOUT}s waiting for $what"
        sleep 0.1
    done
}

free_port() { # a port free for both UDP and TCP on every address
    python3 - <<'PY'
import socket
while True:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("0.0.0.0", 0))
    port = u.getsockname()[1]
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        t.bind(("0.0.0.0", port))
    except OSError:
        continue
    print(port)
    break
PY
}

log "building the package ($profile profile)"
deb=$(scripts/package.sh --profile "$profile" --fast) || fail "scripts/package.sh failed"
[ -f "$deb" ] || fail "scripts/package.sh printed no package path"
echo "$deb" >&2

log "unpacking $(basename "$deb")"
root=$tmp/root
dpkg-deb -x "$deb" "$root" || fail "dpkg -x failed"
dpkg-deb -e "$deb" "$tmp/control" || fail "dpkg -e failed"
for f in usr/bin/switchboard \
    usr/lib/systemd/system/switchboard.service \
    etc/switchboard/switchboard.toml \
    etc/fail2ban/filter.d/switchboard.conf \
    etc/fail2ban/jail.d/switchboard.conf \
    usr/share/man/man1/switchboard.1.gz \
    usr/share/doc/switchboard/README.md \
    usr/share/doc/switchboard/docs/install.md \
    usr/share/doc/switchboard/docs/configuration.md \
    usr/share/doc/switchboard/copyright; do
    [ -s "$root/$f" ] || fail "the package lacks /$f"
done
[ -x "$root/usr/bin/switchboard" ] || fail "/usr/bin/switchboard is not executable"
grep -qx /etc/switchboard/switchboard.toml "$tmp/control/conffiles" ||
    fail "/etc/switchboard/switchboard.toml is not a conffile"
grep -q '^Depends:.*adduser' "$tmp/control/control" || fail "the package does not depend on adduser"
for s in postinst postrm; do
    [ -x "$tmp/control/$s" ] || fail "no $s maintainer script"
    sh -n "$tmp/control/$s" || fail "$s is not valid sh"
done
grep -q 'adduser --system' "$tmp/control/postinst" || fail "postinst creates no system user"
# Enabling or starting a SIP server before its admin configured it would answer on 5060.
if grep -q 'deb-systemd-helper enable\b' "$tmp/control/postinst" &&
    ! grep -q 'was-enabled' "$tmp/control/postinst"; then
    fail "postinst enables the service unconditionally"
fi
if grep -q 'deb-systemd-invoke start' "$tmp/control/postinst"; then
    fail "postinst starts the service on install"
fi
bin=$root/usr/bin/switchboard

log "install, upgrade and purge with dpkg in a throwaway overlay of /"
# The maintainer scripts for real: dpkg -i, dpkg -i again (an upgrade), dpkg --purge, in a
# private mount namespace where / is an overlay whose writes land in $tmp (this host is
# left untouched). Needs root and overlayfs; without them the step says it was skipped.
cat >"$tmp/install-test.sh" <<'INNER'
set -eu
deb=$1 work=$2
mkdir -p "$work/upper" "$work/ovlwork" "$work/merged"
mount -t overlay overlay -o "lowerdir=/,upperdir=$work/upper,workdir=$work/ovlwork" "$work/merged" || exit 77
mount -t proc proc "$work/merged/proc"
mount -t tmpfs tmpfs "$work/merged/tmp"
cp "$deb" "$work/merged/tmp/switchboard.deb"
check() { # check DESCRIPTION COMMAND...: in the overlay
    chroot "$work/merged" sh -c "$2" >/dev/null 2>&1 || { echo "after $phase: $1" >&2; exit 1; }
}
phase="dpkg -i"
chroot "$work/merged" dpkg -i /tmp/switchboard.deb >&2
check "no system user switchboard" 'getent passwd switchboard | grep -q ":/usr/sbin/nologin$"'
check "/var/lib/switchboard is not switchboard:switchboard 750" \
    '[ "$(stat -c %U:%G:%a /var/lib/switchboard)" = switchboard:switchboard:750 ]'
check "the configuration is not root:switchboard 640" \
    '[ "$(stat -c %U:%G:%a /etc/switchboard/switchboard.toml)" = root:switchboard:640 ]'
check "the service user cannot read the configuration" \
    'su -s /bin/sh switchboard -c "cat /etc/switchboard/switchboard.toml"'
check "any user can read the configuration" \
    '! su -s /bin/sh nobody -c "cat /etc/switchboard/switchboard.toml"'
check "the service is enabled by the install" '[ "$(systemctl is-enabled switchboard.service)" = disabled ]'
check "man switchboard does not open" 'man -w switchboard'
phase="a second dpkg -i (upgrade)"
echo '# an admin edit' >>"$work/merged/etc/switchboard/switchboard.toml"
chroot "$work/merged" dpkg -i --force-confold /tmp/switchboard.deb >&2
check "the admin's edit of the configuration is lost" 'grep -q "an admin edit" /etc/switchboard/switchboard.toml'
check "the configuration is not root:switchboard 640" \
    '[ "$(stat -c %U:%G:%a /etc/switchboard/switchboard.toml)" = root:switchboard:640 ]'
phase="dpkg --purge"
chroot "$work/merged" dpkg --purge switchboard >&2
check "/etc/switchboard remains" '[ ! -e /etc/switchboard ]'
check "/var/lib/switchboard remains" '[ ! -e /var/lib/switchboard ]'
check "the statoverride remains" '! dpkg-statoverride --list /etc/switchboard/switchboard.toml'
INNER
if [ "$(id -u)" -ne 0 ]; then
    log "SKIPPED the dpkg -i step: not root"
else
    rc=0
    unshare --mount --fork bash "$tmp/install-test.sh" "$deb" "$tmp/overlay" || rc=$?
    case $rc in
    0) ;;
    77) log "SKIPPED the dpkg -i step: no overlayfs over / here" ;;
    *) fail "dpkg -i / upgrade / purge in the overlay (see above)" ;;
    esac
fi

log "systemd-analyze verify"
unit=$root/usr/lib/systemd/system/switchboard.service
grep -qx 'ExecStart=/usr/bin/switchboard --config /etc/switchboard/switchboard.toml run' "$unit" ||
    fail "ExecStart is not the packaged binary with the packaged configuration"
grep -qx 'User=switchboard' "$unit" || fail "the unit does not run as user switchboard"
# The unit as packaged, pointed at the unpacked tree (verify checks that ExecStart exists
# and that the man page of Documentation= opens).
mkdir -p "$tmp/unit"
sed -e "s|/usr/bin/switchboard|$bin|" \
    -e "s|/etc/switchboard/switchboard.toml|$root/etc/switchboard/switchboard.toml|" \
    "$unit" >"$tmp/unit/switchboard.service"
verify_out=$(MANPATH=$root/usr/share/man systemd-analyze verify "$tmp/unit/switchboard.service" 2>&1) ||
    fail "systemd-analyze verify: $verify_out"
# verify exits 0 on warnings (an unknown or misspelt key): any output is a failure here.
[ -z "$verify_out" ] || fail "systemd-analyze verify warned: $verify_out"
# The sandbox's score (0 = locked down, 10 = none; the unit scores 1.5 on systemd 252):
# a setting dropped or weakened by mistake pushes it over 2.0.
security_out=$(systemd-analyze security --offline=yes --threshold=20 "$tmp/unit/switchboard.service" 2>&1) ||
    fail "the unit's exposure is above 2.0 (systemd-analyze security):
$security_out"

log "man pages match --help"
"$bin" --help >"$tmp/help.txt"
mandir=$root/usr/share/man/man1
# Every subcommand of --help has its page, every long option is in switchboard(1).
cmds=$(awk '/^Commands:/ { on = 1; next } /^$/ { on = 0 } on { print $1 }' "$tmp/help.txt" | grep -vx help)
[ -n "$cmds" ] || fail "--help lists no commands"
for c in $cmds; do
    [ -s "$mandir/switchboard-$c.1.gz" ] || fail "no man page for 'switchboard $c'"
    "$bin" "$c" --help >"$tmp/help-$c.txt"
    about=$(sed -n 1p "$tmp/help-$c.txt")
    # roff writes - as \- and an apostrophe as \*(Aq.
    zcat "$mandir/switchboard-$c.1.gz" | sed -e 's/\\-/-/g' -e "s/\\\\\*(Aq/'/g" | grep -qF -- "$about" ||
        fail "switchboard-$c(1) does not say what 'switchboard $c --help' says: $about"
done
zcat "$mandir/switchboard.1.gz" | sed 's/\\-/-/g' >"$tmp/switchboard.1"
for o in $(grep -oE -- '--[a-z][a-z-]+' "$tmp/help.txt" | sort -u); do
    grep -qF -- "$o" "$tmp/switchboard.1" || fail "switchboard(1) lacks $o"
done
man -l "$mandir/switchboard.1.gz" >/dev/null 2>&1 || fail "man cannot render switchboard(1)"

log "fail2ban filter on sample lines"
f2b=$tmp/fail2ban
mkdir -p "$f2b/filter.d"
cp /etc/fail2ban/filter.d/common.conf "$f2b/filter.d/"
cp "$root/etc/fail2ban/filter.d/switchboard.conf" "$f2b/filter.d/"
for mode in normal aggressive; do
    got=$(fail2ban-regex -c "$f2b" -o ip "$repo/tests/fail2ban/switchboard.log" "switchboard[mode=$mode]" 2>&1) ||
        fail "fail2ban-regex ($mode): $got"
    want=$(grep -v '^#' "$repo/tests/fail2ban/expected-$mode.txt")
    [ "$got" = "$want" ] || fail "fail2ban-regex mode=$mode matched
$got
instead of
$want"
done

log "fail2ban jail"
# The whole fail2ban configuration of this host with the packaged jail turned on (and the
# distribution's sshd jail, which needs a log this machine may not have, left out).
cp -r /etc/fail2ban "$f2b/etc"
rm -f "$f2b/etc/jail.d/defaults-debian.conf"
cp "$root/etc/fail2ban/filter.d/switchboard.conf" "$f2b/etc/filter.d/"
sed 's/^enabled = false$/enabled = true/' "$root/etc/fail2ban/jail.d/switchboard.conf" \
    >"$f2b/etc/jail.d/switchboard.conf"
grep -qx 'enabled = true' "$f2b/etc/jail.d/switchboard.conf" || fail "the jail has no 'enabled = false' line"
jail_out=$(fail2ban-client -c "$f2b/etc" -t 2>&1) || fail "fail2ban-client -t: $jail_out"
jail_dump=$(fail2ban-client -c "$f2b/etc" -d 2>/dev/null)
grep -q "'switchboard', 'systemd'" <<<"$jail_dump" || fail "the jail does not read the journal"
grep -q "addjournalmatch', '_SYSTEMD_UNIT=switchboard.service'" <<<"$jail_dump" ||
    fail "the jail does not read the unit's journal"
grep -q "'protocol', 'tcp,udp'" <<<"$jail_dump" || fail "the jail does not block UDP and TCP"

log "starting the packaged binary with the packaged configuration"
port=$(free_port)
cfg=$tmp/switchboard.toml
data=$tmp/data
# The packaged wildcard listener on a free port (the phone still talks to 127.0.0.1 only),
# so the sandbox check below sees the server list the host's addresses as it will in
# production. (The first "# listen = " is [sip]'s; [metrics] has one too.)
sed -e "s|^data_dir = .*|data_dir = \"$data\"|" \
    -e "0,/^# listen = /s|^# listen = .*|listen = [\"udp:0.0.0.0:$port\", \"tcp:0.0.0.0:$port\"]|" \
    -e "s|^# shutdown_grace_secs = .*|shutdown_grace_secs = 1|" \
    "$root/etc/switchboard/switchboard.toml" >"$cfg"
grep -q "^data_dir = \"$data\"" "$cfg" || fail "no data_dir line to rewrite in the packaged configuration"
grep -q "^listen = .*0.0.0.0:$port" "$cfg" || fail "no '# listen = ' line to rewrite in the packaged configuration"
mkdir -p "$data"
server_log=$tmp/server.log
# Under strace, to check below that the server stays inside the unit's sandbox.
SWITCHBOARD_LOG=info strace -f -qq -o "$tmp/strace.txt" \
    "$bin" --config "$cfg" run >"$server_log" 2>&1 </dev/null &
server_pid=$! # strace's; it exits with the server's status
server_up() {
    kill -0 "$server_pid" 2>/dev/null || fail "switchboard exited at start:
$(cat "$server_log")"
    "$bin" --config "$cfg" status
}
wait_for "the server's control socket" server_up

log "provisioning a phone through the CLI, as docs/install.md tells the admin"
"$bin" --config "$cfg" domain add switchboard.local >&2 || fail "domain add"
echo demo-1000 | "$bin" --config "$cfg" user add 1000@switchboard.local --password-stdin >&2 || fail "user add"

# sipp_run NAME SCENARIO USER PASSWORD: one SIPp phone, bounded by SIPp's own -timeout.
sipp_run() {
    local name=$1 scenario=$2 user=$3 password=$4
    local dir=$tmp/sipp-$name
    mkdir -p "$dir"
    (cd "$dir" && sipp -sf "$repo/tests/sipp/$scenario" -i 127.0.0.1 -p "$(free_port)" \
        -m 1 -l 1 -nostdin -default_behaviors abortunexp \
        -timeout 20s -timeout_error -trace_err -error_file "$dir/errors.log" \
        -s "$user" -au "$user" -ap "$password" \
        -key expires 300 -key domain switchboard.local \
        "127.0.0.1:$port" >"$dir/output.log" 2>&1 </dev/null) ||
        fail "SIPp $name ($scenario) failed:
$(cat "$dir/output.log" "$dir/errors.log" 2>/dev/null | tail -n 40)
server log:
$(tail -n 40 "$server_log")"
}

log "a SIPp phone registers as 1000@switchboard.local"
sipp_run register uac-register-auth-expect-200.xml 1000 demo-1000
registered() { "$bin" --config "$cfg" location list 2>/dev/null | grep -q '1000@switchboard.local'; }
wait_for "1000@switchboard.local in 'location list'" registered
# What journalctl -u switchboard shows the admin (the unit sends stderr to the journal).
wait_for "the registration in the server's log" \
    grep -q 'switchboard: registration action=new aor=1000@switchboard.local' "$server_log"

if [ "$live_fail2ban" = 1 ]; then
    log "failed logins in the server's log are what the fail2ban filter matches"
    sipp_run wrongpw uac-register-wrongpw-expect-401.xml 1000 not-the-password
    wait_for "an 'auth failure' line in the server log" grep -q 'switchboard: auth failure' "$server_log"
    cp "$server_log" "$tmp/server-snapshot.log"
    got=$(fail2ban-regex -c "$f2b" -o ip "$tmp/server-snapshot.log" "switchboard[mode=aggressive]" 2>&1) ||
        fail "fail2ban-regex on the server log: $got"
    grep -qx '127.0.0.1' <<<"$got" || fail "the filter did not find 127.0.0.1 in the server's log:
$got
$(grep 'auth failure' "$tmp/server-snapshot.log")"
fi

log "stopping the server (SIGTERM)"
switchboard_pid=$(pgrep -P "$server_pid" -x switchboard) || fail "no switchboard process under strace"
kill -TERM "$switchboard_pid"
stopped() { # gone, or a zombie waiting for `wait` (kill -0 still succeeds on those)
    ! kill -0 "$server_pid" 2>/dev/null || [ "$(awk '{ print $3 }' "/proc/$server_pid/stat" 2>/dev/null)" = Z ]
}
wait_for "the server to exit after SIGTERM" stopped
wait "$server_pid" || fail "switchboard exited with status $? after SIGTERM:
$(tail -n 40 "$server_log")"
server_pid=""

log "the server stayed inside the unit's sandbox"
# SystemCallFilter=@system-service: every system call it made is in that set (as this
# host's systemd defines it); with SystemCallErrorNumber=EPERM another one would fail.
python3 - "$tmp/strace.txt" "$unit" <<'PY' || fail "the server steps outside switchboard.service's sandbox (above)"
import re, subprocess, sys
trace, unit = open(sys.argv[1]).read(), open(sys.argv[2]).read()
# systemd-analyze syscall-filter: "@group" lines, then members indented (a member may be
# another @group).
groups, cur = {}, None
out = subprocess.run(["systemd-analyze", "syscall-filter"], capture_output=True, text=True, check=True).stdout
for line in out.splitlines():
    s = line.strip()
    if not s or s.startswith("#"):
        continue
    if not line[0].isspace():
        cur = groups.setdefault(s, [])
    elif cur is not None:
        cur.append(s)
def expand(name, seen):
    calls = set()
    for m in groups.get(name, []):
        if m.startswith("@"):
            if m not in seen:
                seen.add(m)
                calls |= expand(m, seen)
        else:
            calls.add(m)
    return calls
filters = re.findall(r"^SystemCallFilter=(.*)$", unit, re.M)
assert filters == ["@system-service"], f"the unit's SystemCallFilter changed: {filters}"
allowed = expand("@system-service", set())
assert len(allowed) > 100, "systemd-analyze syscall-filter gave no @system-service"
# systemd installs the filter before it execs the binary: every call counts, the dynamic
# loader's too (execve itself is systemd's).
used = set(re.findall(r"^\d+\s+(?:<\.\.\. )?([a-z0-9_]+)[( ]", trace, re.M)) - {"execve", "exit", "exit_group"}
problems = sorted(used - allowed)
if problems:
    print(f"system calls outside @system-service: {problems}", file=sys.stderr)
# RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
families = set(re.findall(r"\bsocket\((AF_[A-Z0-9]+)", trace))
bad_families = sorted(families - {"AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK"})
if bad_families:
    print(f"socket families outside RestrictAddressFamilies: {bad_families}", file=sys.stderr)
# MemoryDenyWriteExecute: no writable and executable mapping, no mprotect to executable.
wx = re.findall(r"\b(?:mmap|mprotect|pkey_mprotect)\([^\n]*PROT_WRITE\|PROT_EXEC[^\n]*", trace)
wx += re.findall(r"\b(?:mprotect|pkey_mprotect)\([^\n]*PROT_EXEC[^\n]*", trace)
if wx:
    print(f"MemoryDenyWriteExecute would refuse: {wx[:3]}", file=sys.stderr)
if "registration" not in trace and "REGISTER" not in trace:
    print("the trace saw no REGISTER: did strace follow the server?", file=sys.stderr)
    sys.exit(1)
sys.exit(1 if problems or bad_families or wx else 0)
PY

log "package test passed: $deb"
