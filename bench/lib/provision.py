#!/usr/bin/env python3
"""Bulk provisioning for bench/run.sh (50k users through the CLI would take minutes).

usage: provision.py users  N DOMAIN OUT.csv        -> SIPp injection file (SEQUENTIAL;
                                                  username;password;[authentication ...])
       provision.py callee 0 DOMAIN OUT.csv        -> the same for "callee" alone
       provision.py kam    N DOMAIN KAMAILIO.sqlite -> subscriber rows (ha1 = md5(u:realm:pw))
       provision.py sb     N DOMAIN SWITCHBOARD.db  -> subscribers rows (ha1_md5, ha1_sha256)
       provision.py dids   N DOMAIN SWITCHBOARD.db  -> a DID per user (alias +1555NNNNNN, the
                                                  user's caller ID on calls to gateways)

Users are u000000..u(N-1) with password "pw-<user>", plus "callee" (password "pw-callee").
The realm is the domain, as both servers use it.
"""
import hashlib
import sqlite3
import sys
import time


def users(n):
    yield "callee", "pw-callee"
    for i in range(n):
        u = "u%06d" % i
        yield u, "pw-" + u


def ha1(algo, user, realm, pw):
    return hashlib.new(algo, f"{user}:{realm}:{pw}".encode()).hexdigest()


def main():
    what, n, domain, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    if what == "users":
        with open(out, "w") as f:
            f.write("SEQUENTIAL\n")
            for u, pw in users(n):
                if u != "callee":
                    f.write(f"{u};{pw};[authentication username={u} password={pw}]\n")
    elif what == "callee":
        with open(out, "w") as f:
            f.write("SEQUENTIAL\ncallee;pw-callee;[authentication username=callee password=pw-callee]\n")
    elif what == "kam":
        db = sqlite3.connect(out)
        db.executemany(
            "INSERT OR REPLACE INTO subscriber (username, domain, password, ha1, ha1b) "
            "VALUES (?, ?, '', ?, '')",
            ((u, domain, ha1("md5", u, domain, pw)) for u, pw in users(n)),
        )
        db.commit()
    elif what == "sb":
        db = sqlite3.connect(out)
        now = int(time.time())
        db.executemany(
            "INSERT OR REPLACE INTO subscribers (username, domain, ha1_md5, ha1_sha256, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                (u, domain, ha1("md5", u, domain, pw), ha1("sha256", u, domain, pw), now)
                for u, pw in users(n)
            ),
        )
        db.commit()
    elif what == "dids":
        db = sqlite3.connect(out)
        rows = [(u, "+1555%06d" % i) for i, (u, _) in enumerate(users(n))]
        db.executemany(
            "INSERT OR REPLACE INTO aliases (alias_user, alias_domain, username, domain) "
            "VALUES (?, ?, ?, ?)",
            ((did, domain, u, domain) for u, did in rows),
        )
        db.executemany(
            "INSERT OR REPLACE INTO user_settings (username, domain, name, value) "
            "VALUES (?, ?, 'caller_id', ?)",
            ((u, domain, did) for u, did in rows),
        )
        db.commit()
    else:
        sys.exit("unknown command " + what)


if __name__ == "__main__":
    main()
