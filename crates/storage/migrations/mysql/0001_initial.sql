-- Switchboard schema, version 1 (MariaDB / MySQL).
-- Text is utf8mb4 with binary (case-sensitive) collation: SIP user parts are case-sensitive.
-- Index keys stay under InnoDB's 3072-byte limit: user and domain are VARCHAR(255) utf8mb4
-- (1020 bytes each); contact URIs are ASCII, up to 512 bytes.
CREATE TABLE domains (
    domain VARCHAR(255) NOT NULL PRIMARY KEY
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE subscribers (
    username VARCHAR(255) NOT NULL,
    domain VARCHAR(255) NOT NULL,
    ha1_md5 VARCHAR(64) NOT NULL,
    ha1_sha256 VARCHAR(128) NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (username, domain),
    FOREIGN KEY (domain) REFERENCES domains (domain) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE aliases (
    alias_user VARCHAR(255) NOT NULL,
    alias_domain VARCHAR(255) NOT NULL,
    username VARCHAR(255) NOT NULL,
    domain VARCHAR(255) NOT NULL,
    PRIMARY KEY (alias_user, alias_domain),
    KEY aliases_target (username, domain),
    FOREIGN KEY (username, domain) REFERENCES subscribers (username, domain) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE bindings (
    username VARCHAR(255) NOT NULL,
    domain VARCHAR(255) NOT NULL,
    contact VARCHAR(512) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    q INT NOT NULL,
    expires_at BIGINT NOT NULL,
    call_id VARCHAR(1024) NOT NULL,
    cseq BIGINT NOT NULL,
    source VARCHAR(1024) NOT NULL,
    path TEXT NOT NULL,
    user_agent VARCHAR(1024) NOT NULL,
    node VARCHAR(1024) NOT NULL,
    PRIMARY KEY (username, domain, contact),
    KEY bindings_expires_at (expires_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE user_settings (
    username VARCHAR(255) NOT NULL,
    domain VARCHAR(255) NOT NULL,
    name VARCHAR(64) NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (username, domain, name),
    FOREIGN KEY (username, domain) REFERENCES subscribers (username, domain) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
