-- The page lists the speakers heard from recently (a range on received_at, not a full scan).
CREATE INDEX requests_received ON requests (received_at);
