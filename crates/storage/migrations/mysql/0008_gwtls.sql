-- Switchboard schema, version 8 (MariaDB / MySQL): how a TLS gateway's certificate is
-- checked (issue 19): 'verify', 'skip' or 'pin:' and the SHA-256 fingerprint of its
-- certificate.
ALTER TABLE gateways ADD COLUMN tls_verify VARCHAR(128) NOT NULL DEFAULT 'verify';
