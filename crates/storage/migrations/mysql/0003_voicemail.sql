-- Switchboard schema, version 3 (MariaDB / MySQL): voicemail mailboxes and messages.
-- A mailbox goes with its user, messages with their mailbox (the audio files stay on disk).
CREATE TABLE voicemail_mailboxes (
    username VARCHAR(255) NOT NULL,
    domain VARCHAR(255) NOT NULL,
    pin_hash VARCHAR(255) NOT NULL,
    after_secs BIGINT NOT NULL,
    no_pin_at_home BIGINT NOT NULL,
    greeting VARCHAR(1024) NOT NULL,
    enabled BIGINT NOT NULL,
    PRIMARY KEY (username, domain),
    FOREIGN KEY (username, domain) REFERENCES subscribers (username, domain) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE voicemail_messages (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    username VARCHAR(255) NOT NULL,
    domain VARCHAR(255) NOT NULL,
    caller VARCHAR(255) NOT NULL,
    received_at BIGINT NOT NULL,
    duration_secs BIGINT NOT NULL,
    status VARCHAR(16) NOT NULL,
    file VARCHAR(1024) NOT NULL,
    KEY voicemail_messages_mailbox (username, domain),
    FOREIGN KEY (username, domain) REFERENCES voicemail_mailboxes (username, domain)
        ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
