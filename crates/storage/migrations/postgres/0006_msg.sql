-- Switchboard schema, version 6 (PostgreSQL): instant messages kept for offline users
-- (issue 17). Messages go with their recipient; one user's are delivered in id order.
CREATE TABLE instant_messages (
    id BIGSERIAL PRIMARY KEY,
    username VARCHAR(255) NOT NULL,
    domain VARCHAR(255) NOT NULL,
    sender VARCHAR(512) NOT NULL,
    content_type VARCHAR(255) NOT NULL,
    body TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    FOREIGN KEY (username, domain) REFERENCES subscribers (username, domain) ON DELETE CASCADE
);
CREATE INDEX instant_messages_recipient ON instant_messages (username, domain);
