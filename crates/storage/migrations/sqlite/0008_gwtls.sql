-- Switchboard schema, version 8 (SQLite): how a TLS gateway's certificate is checked
-- (issue 19): 'verify', 'skip' or 'pin:' and the SHA-256 fingerprint of its certificate.
ALTER TABLE gateways ADD COLUMN tls_verify TEXT NOT NULL DEFAULT 'verify';
