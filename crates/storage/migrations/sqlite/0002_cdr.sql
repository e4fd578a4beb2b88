-- Switchboard schema, version 2: call records (docs/cdr.md). Times are Unix milliseconds.
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
    chain TEXT NOT NULL
);
CREATE INDEX call_records_started ON call_records (started_ms);
CREATE INDEX call_records_caller ON call_records (caller);
