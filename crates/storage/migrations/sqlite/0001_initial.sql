-- Switchboard schema, version 1 (SQLite).
CREATE TABLE domains (
    domain TEXT NOT NULL PRIMARY KEY
);

CREATE TABLE subscribers (
    username TEXT NOT NULL,
    domain TEXT NOT NULL REFERENCES domains (domain) ON DELETE CASCADE,
    ha1_md5 TEXT NOT NULL,
    ha1_sha256 TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (username, domain)
);

CREATE TABLE aliases (
    alias_user TEXT NOT NULL,
    alias_domain TEXT NOT NULL,
    username TEXT NOT NULL,
    domain TEXT NOT NULL,
    PRIMARY KEY (alias_user, alias_domain),
    FOREIGN KEY (username, domain) REFERENCES subscribers (username, domain) ON DELETE CASCADE
);
CREATE INDEX aliases_target ON aliases (username, domain);

CREATE TABLE bindings (
    username TEXT NOT NULL,
    domain TEXT NOT NULL,
    contact TEXT NOT NULL,
    q INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    call_id TEXT NOT NULL,
    cseq INTEGER NOT NULL,
    source TEXT NOT NULL,
    path TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    node TEXT NOT NULL,
    PRIMARY KEY (username, domain, contact)
);
CREATE INDEX bindings_expires_at ON bindings (expires_at);

CREATE TABLE user_settings (
    username TEXT NOT NULL,
    domain TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (username, domain, name),
    FOREIGN KEY (username, domain) REFERENCES subscribers (username, domain) ON DELETE CASCADE
);
