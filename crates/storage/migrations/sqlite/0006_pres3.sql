-- Switchboard schema, version 6 (SQLite): per-user presence watcher rules (issue 17).
-- The watched user (username, domain) allows or denies one watcher (an address of
-- record, user@domain) its dialog and presence subscriptions. rule: 'allow' or 'deny'.
CREATE TABLE presence_rules (
    username TEXT NOT NULL,
    domain TEXT NOT NULL,
    watcher TEXT NOT NULL,
    rule TEXT NOT NULL,
    PRIMARY KEY (username, domain, watcher),
    FOREIGN KEY (username, domain) REFERENCES subscribers (username, domain) ON DELETE CASCADE
);
