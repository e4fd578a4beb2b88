-- Switchboard schema, version 4 (SQLite): the web portal's accounts, their domains, the
-- audit log, and the index that pages the user list by (domain, username).
CREATE TABLE portal_accounts (
    name TEXT NOT NULL PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE portal_account_domains (
    name TEXT NOT NULL REFERENCES portal_accounts (name) ON DELETE CASCADE,
    domain TEXT NOT NULL,
    PRIMARY KEY (name, domain)
);

CREATE TABLE portal_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    source TEXT NOT NULL,
    action TEXT NOT NULL,
    object TEXT NOT NULL
);

CREATE INDEX subscribers_domain_username ON subscribers (domain, username);
