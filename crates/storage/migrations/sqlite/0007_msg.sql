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

-- Event subscriptions the server is the notifier of (dialog, message-summary), kept so that
-- they survive a restart; ended ones are deleted, expired ones at the next start.
CREATE TABLE event_subscriptions (
    package VARCHAR(32) NOT NULL,
    call_id VARCHAR(255) NOT NULL,
    remote_tag VARCHAR(128) NOT NULL,
    local_tag VARCHAR(128) NOT NULL,
    watched_user TEXT NOT NULL,
    watched_domain TEXT NOT NULL,
    watcher_user TEXT NOT NULL,
    watcher_domain TEXT NOT NULL,
    remote_uri TEXT NOT NULL,
    contact TEXT NOT NULL,
    source TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    cseq BIGINT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (call_id, remote_tag, local_tag)
);
