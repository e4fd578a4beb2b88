-- Switchboard schema, version 3 (PostgreSQL): voicemail mailboxes and messages.
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
);

CREATE TABLE voicemail_messages (
    id BIGSERIAL PRIMARY KEY,
    username VARCHAR(255) NOT NULL,
    domain VARCHAR(255) NOT NULL,
    caller VARCHAR(255) NOT NULL,
    received_at BIGINT NOT NULL,
    duration_secs BIGINT NOT NULL,
    status VARCHAR(16) NOT NULL,
    file VARCHAR(1024) NOT NULL,
    FOREIGN KEY (username, domain) REFERENCES voicemail_mailboxes (username, domain)
        ON DELETE CASCADE
);
CREATE INDEX voicemail_messages_mailbox ON voicemail_messages (username, domain);
