-- Stock held for an order at checkout. The order id is the primary key, which is what makes
-- reserving idempotent: a second request for the same order finds the first one's row
-- instead of taking the stock again.
--
-- status: held (stock taken, expires at expires_at unless confirmed), confirmed (final),
-- released (given back on request), expired (given back by the sweeper). Stock is returned
-- exactly once, by the one statement that moves a reservation out of held or confirmed.
--
-- One statement per migration file: the kit's migrate() on PostgreSQL cannot yet run a file
-- of several statements (node-postgres answers such a script with one result per statement).
create table reservations (
  order_id    uuid primary key,
  status      text not null check (status in ('held', 'confirmed', 'released', 'expired')),
  expires_at  timestamptz not null,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);
