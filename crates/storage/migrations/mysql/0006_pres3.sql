-- Switchboard schema, version 6 (MariaDB / MySQL): per-user presence watcher rules
-- (issue 17). The watched user (username, domain) allows or denies one watcher (an address
-- of record, user@domain) its dialog and presence subscriptions. rule: 'allow' or 'deny'.
CREATE TABLE presence_rules (
    username VARCHAR(255) NOT NULL,
    domain VARCHAR(255) NOT NULL,
    watcher VARCHAR(255) NOT NULL,
    rule VARCHAR(8) NOT NULL,
    PRIMARY KEY (username, domain, watcher),
    FOREIGN KEY (username, domain) REFERENCES subscribers (username, domain) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
