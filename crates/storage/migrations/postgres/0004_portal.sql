-- Switchboard schema, version 4 (PostgreSQL): the web portal's accounts, their domains,
-- the audit log, and the index that pages the user list by (domain, username).
CREATE TABLE portal_accounts (
    name VARCHAR(255) NOT NULL PRIMARY KEY,
    password_hash VARCHAR(255) NOT NULL,
    role VARCHAR(32) NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE portal_account_domains (
    name VARCHAR(255) NOT NULL REFERENCES portal_accounts (name) ON DELETE CASCADE,
    domain VARCHAR(255) NOT NULL,
    PRIMARY KEY (name, domain)
);

CREATE TABLE portal_audit (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    actor VARCHAR(255) NOT NULL,
    source VARCHAR(64) NOT NULL,
    action VARCHAR(64) NOT NULL,
    object VARCHAR(1024) NOT NULL
);

CREATE INDEX subscribers_domain_username ON subscribers (domain, username);
