-- Switchboard schema, version 3 (SQLite): voicemail mailboxes and messages.
-- A mailbox goes with its user, messages with their mailbox (the audio files stay on disk).
CREATE TABLE voicemail_mailboxes (
    username TEXT NOT NULL,
    domain TEXT NOT NULL,
    pin_hash TEXT NOT NULL,
    after_secs INTEGER NOT NULL,
    no_pin_at_home INTEGER NOT NULL,
    greeting TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    PRIMARY KEY (username, domain),
    FOREIGN KEY (username, domain) REFERENCES subscribers (username, domain) ON DELETE CASCADE
);

CREATE TABLE voicemail_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    domain TEXT NOT NULL,
    caller TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    duration_secs INTEGER NOT NULL,
    status TEXT NOT NULL,
    file TEXT NOT NULL,
    FOREIGN KEY (username, domain) REFERENCES voicemail_mailboxes (username, domain)
        ON DELETE CASCADE
);
CREATE INDEX voicemail_messages_mailbox ON voicemail_messages (username, domain);
