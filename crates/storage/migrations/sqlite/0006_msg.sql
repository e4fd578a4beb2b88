-- Switchboard schema, version 6 (SQLite): instant messages kept for offline users (issue 17).
-- Messages go with their recipient; one user's are delivered in id order.
CREATE TABLE instant_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    domain TEXT NOT NULL,
    sender TEXT NOT NULL,
    content_type TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    FOREIGN KEY (username, domain) REFERENCES subscribers (username, domain) ON DELETE CASCADE
);
CREATE INDEX instant_messages_recipient ON instant_messages (username, domain);
