-- Requests from the speakers: stored exactly once per (device, message id), whichever worker
-- receives them (INSERT ... ON CONFLICT DO NOTHING against this constraint).
CREATE TABLE requests (
    id INTEGER PRIMARY KEY,
    device_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    request_type TEXT NOT NULL,
    tier TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    received_at DOUBLE PRECISION NOT NULL,
    worker TEXT NOT NULL,
    payload TEXT NOT NULL,
    -- open: someone at the practice must act; acknowledged: someone has; info: nothing to do
    state TEXT NOT NULL DEFAULT 'open',
    CONSTRAINT requests_device_message UNIQUE (device_id, message_id)
);
CREATE INDEX requests_queue ON requests (state, received_at);
CREATE INDEX requests_device ON requests (device_id, received_at);
