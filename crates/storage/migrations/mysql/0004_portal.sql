-- Switchboard schema, version 4 (MariaDB / MySQL): the web portal's accounts, their
-- domains, the audit log, and the index that pages the user list by (domain, username).
CREATE TABLE portal_accounts (
    name VARCHAR(255) NOT NULL PRIMARY KEY,
    password_hash VARCHAR(255) NOT NULL,
    role VARCHAR(32) NOT NULL,
    created_at BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE portal_account_domains (
    name VARCHAR(255) NOT NULL,
    domain VARCHAR(255) NOT NULL,
    PRIMARY KEY (name, domain),
    FOREIGN KEY (name) REFERENCES portal_accounts (name) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE portal_audit (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor VARCHAR(255) NOT NULL,
    source VARCHAR(64) NOT NULL,
    action VARCHAR(64) NOT NULL,
    object VARCHAR(1024) NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE INDEX subscribers_domain_username ON subscribers (domain, username);
