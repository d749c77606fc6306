-- The doctor team's page: members (scrypt password hashes), login sessions (only a hash of the
-- token is kept) and the audit trail of every action, which is also the devices' timeline.
CREATE TABLE members (
    username TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    active INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES members (username),
    created_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at DOUBLE PRECISION NOT NULL,
    member TEXT NOT NULL,
    action TEXT NOT NULL,
    device_id TEXT,
    request_id INTEGER REFERENCES requests (id),
    detail TEXT NOT NULL DEFAULT '',
    command_id TEXT,
    outcome TEXT NOT NULL
);
CREATE INDEX audit_device ON audit (device_id, at);
