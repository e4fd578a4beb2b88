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
