-- Switchboard schema, version 5 (SQLite): PSTN gateways and routes (issue 14).
CREATE TABLE gateways (
    name TEXT NOT NULL PRIMARY KEY,
    address TEXT NOT NULL,
    transport TEXT NOT NULL,
    strip BIGINT NOT NULL,
    prefix TEXT NOT NULL,
    probe_secs BIGINT NOT NULL
);

-- domain '' : the route serves every domain. gateways: names, comma-separated, in order.
CREATE TABLE pstn_routes (
    domain TEXT NOT NULL,
    prefix TEXT NOT NULL,
    gateways TEXT NOT NULL,
    class TEXT NOT NULL,
    PRIMARY KEY (domain, prefix)
);

-- Trusted peers: requests from these addresses are not challenged. gateway '' : none.
CREATE TABLE trusted_peers (
    cidr TEXT NOT NULL PRIMARY KEY,
    gateway TEXT NOT NULL
);

-- Dial plans: per-domain number rewriting before routing, by priority (lowest first).
CREATE TABLE dial_rules (
    domain TEXT NOT NULL,
    pattern TEXT NOT NULL,
    priority BIGINT NOT NULL,
    replacement TEXT NOT NULL,
    PRIMARY KEY (domain, pattern)
);
