-- Switchboard schema, version 5 (MariaDB / MySQL): PSTN gateways and routes (issue 14).
CREATE TABLE gateways (
    name VARCHAR(64) NOT NULL PRIMARY KEY,
    address VARCHAR(64) NOT NULL,
    transport VARCHAR(8) NOT NULL,
    strip BIGINT NOT NULL,
    prefix VARCHAR(32) NOT NULL,
    probe_secs BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- domain '' : the route serves every domain. gateways: names, comma-separated, in order.
CREATE TABLE pstn_routes (
    domain VARCHAR(255) NOT NULL,
    prefix VARCHAR(33) NOT NULL,
    gateways VARCHAR(600) NOT NULL,
    class VARCHAR(16) NOT NULL,
    PRIMARY KEY (domain, prefix)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Trusted peers: requests from these addresses are not challenged. gateway '' : none.
CREATE TABLE trusted_peers (
    cidr VARCHAR(64) NOT NULL PRIMARY KEY,
    gateway VARCHAR(64) NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Dial plans: per-domain number rewriting before routing, by priority (lowest first).
CREATE TABLE dial_rules (
    domain VARCHAR(255) NOT NULL,
    pattern VARCHAR(200) NOT NULL,
    priority BIGINT NOT NULL,
    replacement VARCHAR(200) NOT NULL,
    PRIMARY KEY (domain, pattern)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
