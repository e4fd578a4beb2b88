#!/usr/bin/env python3
"""Summary of a bench/run.sh results file: means over the rounds.

For every operation and rate, the mean CPU per operation of each server over its rounds
(`summary op=call rate=500 switchboard=... kamailio=...`) and each server's ratio to
Kamailio; for memory, the mean PSS per contact (right after the load, Timer J state
included) and before the first contact. Only the runs of the file given count.
"""
import sys
from collections import defaultdict


def fields(line):
    return dict(f.split("=", 1) for f in line.split() if "=" in f)


def mean(xs):
    return sum(xs) / len(xs) if xs else None


def fmt(x, pattern="%.1f"):
    return "na" if x is None else pattern % x


def main(path):
    cpu = defaultdict(lambda: defaultdict(list))   # (op, rate) -> server -> [us]
    split = defaultdict(lambda: defaultdict(list))  # (op, rate, "user"|"sys") -> server -> [us]
    dirty = defaultdict(set)                       # (op, rate) -> servers with failures
    mem = defaultdict(lambda: defaultdict(list))   # key -> server -> [value]
    servers = []
    for line in open(path):
        f = fields(line)
        if "server" not in f or "op" not in f:
            continue
        s = f["server"]
        if s not in servers:
            servers.append(s)
        if f["op"] == "memory":
            mem["pss_bytes_per_contact"][s].append(float(f["pss_bytes_per_contact"]))
            mem["pss_mb_before"][s].append(float(f["pss_kb_before"]) / 1024)
            mem["pss_bytes_per_contact_settled"][s].append(
                float(f["pss_bytes_per_contact_settled"]))
            continue
        if "cpu_us_per_op" not in f or f["cpu_us_per_op"] == "nan":
            continue
        key = (f["op"], int(f["rate"]))
        cpu[key][s].append(float(f["cpu_us_per_op"]))
        for part in ("user", "sys"):
            v = f.get(part + "_us_per_op", "nan")
            if v != "nan":
                split[key + (part,)][s].append(float(v))
        if f.get("failed", "0") != "0" or f.get("retrans", "0") != "0":
            dirty[key].add(s)
    for (op, rate) in sorted(cpu):
        by = cpu[(op, rate)]
        parts = ["summary op=%s rate=%d" % (op, rate)]
        for s in servers:
            if s in by:
                parts.append("%s=%s" % (s, fmt(mean(by[s]))))
                parts.append("%s_runs=%d" % (s, len(by[s])))
                for part in ("user", "sys"):
                    xs = split[(op, rate, part)].get(s)
                    if xs:
                        parts.append("%s_%s=%s" % (s, part, fmt(mean(xs))))
        k = mean(by.get("kamailio", []))
        for s in servers:
            if s != "kamailio" and s in by and k:
                parts.append("%s/kamailio=%.2f" % (s, mean(by[s]) / k))
        if dirty[(op, rate)]:
            parts.append("unclean=" + ",".join(sorted(dirty[(op, rate)])))
        print(" ".join(parts))
    for what in ("pss_bytes_per_contact", "pss_bytes_per_contact_settled", "pss_mb_before"):
        by = mem.get(what)
        if not by:
            continue
        parts = ["summary op=memory value=%s" % what]
        for s in servers:
            if s in by:
                parts.append("%s=%s" % (s, fmt(mean(by[s]))))
        k = mean(by.get("kamailio", []))
        for s in servers:
            if s != "kamailio" and s in by and k:
                parts.append("%s/kamailio=%.2f" % (s, mean(by[s]) / k))
        print(" ".join(parts))


if __name__ == "__main__":
    main(sys.argv[1])
