-- Switchboard schema, version 2: call records (docs/cdr.md). Times are Unix milliseconds.
-- Text columns are bounded so the indexes stay under InnoDB's 3072-byte key limit.
CREATE TABLE call_records (
    id VARCHAR(64) NOT NULL PRIMARY KEY,
    call_id VARCHAR(255) NOT NULL,
    caller VARCHAR(512),
    caller_from VARCHAR(512) NOT NULL,
    dialled VARCHAR(512) NOT NULL,
    translated VARCHAR(512) NOT NULL,
    target VARCHAR(512) NOT NULL,
    source VARCHAR(128) NOT NULL,
    gateway VARCHAR(255),
    started_ms BIGINT NOT NULL,
    answered_ms BIGINT,
    ended_ms BIGINT,
    duration_ms BIGINT,
    status INTEGER NOT NULL,
    reason VARCHAR(255) NOT NULL,
    hangup VARCHAR(16),
    chain TEXT NOT NULL,
    KEY call_records_started (started_ms),
    KEY call_records_caller (caller)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
