#!/usr/bin/env bash
# Installs (when missing), starts and provisions MariaDB and PostgreSQL for the storage tests.
#
# Idempotent: a second run only checks that both servers answer. Meant for a Debian machine
# (root, or sudo available) without systemd. Usage:
#     eval "$(scripts/dbs.sh)"
# Prints only the two `export SWITCHBOARD_TEST_..._URL=...` lines on stdout; everything else
# goes to stderr.
set -euo pipefail

exec 3>&1 1>&2 # keep stdout clean for `eval`: fd 3 is the real stdout
cd / # psql as postgres cannot read the caller's directory

log() { printf 'dbs.sh: %s\n' "$*" >&2; }

# Daemons started from here must not inherit our stdout (the `$(...)` pipe of the caller:
# it would never see end-of-file and `eval "$(scripts/dbs.sh)"` would hang) nor our stderr
# (a CI log pipe would stay open after the tests end). Their output goes to a file.
DAEMON_LOG=/tmp/switchboard-dbs.log
detached() { # detached COMMAND...: runs it with no inherited pipes
    if ! "$@" </dev/null >>"$DAEMON_LOG" 2>&1 3>&-; then
        log "failed: $* (last lines of $DAEMON_LOG follow)"
        tail -n 20 "$DAEMON_LOG" >&2 || true
        return 1
    fi
}

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

# Runs a command as the postgres OS user.
as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres -- "$@"; fi
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
    local secs=$1 what=$2
    shift 2
    for _ in $(seq 1 "$((secs * 4))"); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.25
    done
    log "$what did not come up within ${secs}s"
    return 1
}

# --- install ------------------------------------------------------------------------------
missing=()
installed mariadb-server || missing+=(mariadb-server)
installed postgresql || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    detached $SUDO apt-get update -qq
    # The packages' scripts may start the servers: hence `detached`.
    detached $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}"
fi

# --- MariaDB ------------------------------------------------------------------------------
mysql_root() { $SUDO mariadb --protocol=socket -uroot "$@"; }

if ! mysql_root -e 'SELECT 1' >/dev/null 2>&1; then
    log "starting MariaDB"
    if ! detached $SUDO service mariadb start; then
        log "service mariadb start failed; starting mysqld_safe directly"
        $SUDO mkdir -p /run/mysqld
        $SUDO chown mysql:mysql /run/mysqld
        ($SUDO mysqld_safe </dev/null >>"$DAEMON_LOG" 2>&1 3>&- &)
    fi
    wait_for 60 MariaDB mysql_root -e 'SELECT 1'
fi

mysql_root <<'SQL'
CREATE USER IF NOT EXISTS 'switchboard'@'localhost' IDENTIFIED BY 'switchboard';
CREATE USER IF NOT EXISTS 'switchboard'@'127.0.0.1' IDENTIFIED BY 'switchboard';
GRANT ALL PRIVILEGES ON *.* TO 'switchboard'@'localhost';
GRANT ALL PRIVILEGES ON *.* TO 'switchboard'@'127.0.0.1';
CREATE DATABASE IF NOT EXISTS switchboard_test CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
SQL
wait_for 30 "MariaDB on 127.0.0.1:3306" \
    mariadb -h127.0.0.1 -P3306 -uswitchboard -pswitchboard -e 'SELECT 1' switchboard_test

# --- PostgreSQL ---------------------------------------------------------------------------
pg_ready() { pg_isready -q -h 127.0.0.1 -p 5432; }

if ! pg_ready; then
    cluster=$(pg_lsclusters -h | awk 'NR == 1 { print $1 " " $2 }')
    if [ -z "$cluster" ]; then
        ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
        log "creating PostgreSQL $ver cluster 'main'"
        detached $SUDO pg_createcluster "$ver" main
        cluster="$ver main"
    fi
    log "starting PostgreSQL cluster $cluster"
    # shellcheck disable=SC2086 # "VERSION NAME" splits on purpose
    detached $SUDO pg_ctlcluster $cluster start || detached $SUDO service postgresql start
    wait_for 60 PostgreSQL pg_ready
fi

# Password logins over TCP from 127.0.0.1 (Debian's default pg_hba.conf already allows
# scram-sha-256 there; add the line if someone removed it).
hba=$(as_postgres psql -XAtqc 'SHOW hba_file')
if ! $SUDO grep -Eq '^[[:space:]]*host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+(md5|scram-sha-256)' "$hba"; then
    log "allowing password logins from 127.0.0.1 in $hba"
    echo 'host all all 127.0.0.1/32 scram-sha-256' | $SUDO tee -a "$hba" >/dev/null
    as_postgres psql -XAtqc 'SELECT pg_reload_conf()' >/dev/null
fi

as_postgres psql -XAtq -v ON_ERROR_STOP=1 <<'SQL'
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'switchboard') THEN
        CREATE ROLE switchboard LOGIN CREATEDB PASSWORD 'switchboard';
    END IF;
END
$$;
SQL
if [ "$(as_postgres psql -XAtqc "SELECT 1 FROM pg_database WHERE datname = 'switchboard_test'")" != 1 ]; then
    as_postgres createdb -O switchboard switchboard_test
fi
wait_for 30 "PostgreSQL on 127.0.0.1:5432" env PGPASSWORD=switchboard \
    psql -XAtq -h 127.0.0.1 -p 5432 -U switchboard -d switchboard_test -c 'SELECT 1'

log "MariaDB and PostgreSQL are up"
echo "export SWITCHBOARD_TEST_MYSQL_URL=mysql://switchboard:switchboard@127.0.0.1:3306/switchboard_test" >&3
echo "export SWITCHBOARD_TEST_POSTGRES_URL=postgres://switchboard:switchboard@127.0.0.1:5432/switchboard_test" >&3
