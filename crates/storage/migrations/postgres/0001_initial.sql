-- Switchboard schema, version 1 (PostgreSQL).
CREATE TABLE domains (
    domain VARCHAR(255) NOT NULL PRIMARY KEY
);

CREATE TABLE subscribers (
    username VARCHAR(255) NOT NULL,
    domain VARCHAR(255) NOT NULL REFERENCES domains (domain) ON DELETE CASCADE,
    ha1_md5 VARCHAR(64) NOT NULL,
    ha1_sha256 VARCHAR(128) NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (username, domain)
);

CREATE TABLE aliases (
    alias_user VARCHAR(255) NOT NULL,
    alias_domain VARCHAR(255) NOT NULL,
    username VARCHAR(255) NOT NULL,
    domain VARCHAR(255) NOT NULL,
    PRIMARY KEY (alias_user, alias_domain),
    FOREIGN KEY (username, domain) REFERENCES subscribers (username, domain) ON DELETE CASCADE
);
CREATE INDEX aliases_target ON aliases (username, domain);

CREATE TABLE bindings (
    username VARCHAR(255) NOT NULL,
    domain VARCHAR(255) NOT NULL,
    contact VARCHAR(512) NOT NULL,
    q INTEGER NOT NULL,
    expires_at BIGINT NOT NULL,
    call_id VARCHAR(1024) NOT NULL,
    cseq BIGINT NOT NULL,
    source VARCHAR(1024) NOT NULL,
    path TEXT NOT NULL,
    user_agent VARCHAR(1024) NOT NULL,
    node VARCHAR(1024) NOT NULL,
    PRIMARY KEY (username, domain, contact)
);
CREATE INDEX bindings_expires_at ON bindings (expires_at);

CREATE TABLE user_settings (
    username VARCHAR(255) NOT NULL,
    domain VARCHAR(255) NOT NULL,
    name VARCHAR(64) NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (username, domain, name),
    FOREIGN KEY (username, domain) REFERENCES subscribers (username, domain) ON DELETE CASCADE
);
