-- Switchboard schema, version 6 (MariaDB / MySQL): instant messages kept for offline users
-- (issue 17). Messages go with their recipient; one user's are delivered in id order.
CREATE TABLE instant_messages (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    username VARCHAR(255) NOT NULL,
    domain VARCHAR(255) NOT NULL,
    sender VARCHAR(512) NOT NULL,
    content_type VARCHAR(255) NOT NULL,
    body MEDIUMTEXT NOT NULL,
    received_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    KEY instant_messages_recipient (username, domain),
    FOREIGN KEY (username, domain) REFERENCES subscribers (username, domain) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Event subscriptions the server is the notifier of (dialog, message-summary), kept so that
-- they survive a restart; ended ones are deleted, expired ones at the next start.
CREATE TABLE event_subscriptions (
    package VARCHAR(32) NOT NULL,
    call_id VARCHAR(255) NOT NULL,
    remote_tag VARCHAR(128) NOT NULL,
    local_tag VARCHAR(128) NOT NULL,
    watched_user VARCHAR(255) NOT NULL,
    watched_domain VARCHAR(255) NOT NULL,
    watcher_user VARCHAR(255) NOT NULL,
    watcher_domain VARCHAR(255) NOT NULL,
    remote_uri VARCHAR(1024) NOT NULL,
    contact VARCHAR(1024) NOT NULL,
    source VARCHAR(128) NOT NULL,
    expires_at BIGINT NOT NULL,
    cseq BIGINT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (call_id, remote_tag, local_tag)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
