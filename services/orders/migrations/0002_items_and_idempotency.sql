-- The lines of an order, with the price each unit had when the stock was reserved.
create table order_items (
  order_id    uuid not null references orders (id) on delete cascade,
  sku         text not null,
  quantity    integer not null check (quantity > 0),
  price_cents integer not null check (price_cents >= 0),
  primary key (order_id, sku)
);

-- One row per (user, Idempotency-Key). The first request to insert it owns the work; the
-- order id is fixed here, so a retry after a crash reserves the same stock (inventory's
-- reservations are idempotent by order id) instead of reserving twice.
create table idempotency_keys (
  user_id         uuid not null,
  key             text not null,
  request_hash    text not null,
  order_id        uuid not null,
  state           text not null check (state in ('started', 'completed')),
  response_status integer,
  response_body   jsonb,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  primary key (user_id, key)
);
