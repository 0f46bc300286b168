-- The provider's ledger: what it was asked to charge, what it charged and what it gave back.
-- Its shapes are Stripe's (a payment intent, its refunds); amounts in the currency's smallest unit.
create table payment_intents (
  id                  text primary key,
  -- The order of creation, for the list (newest first) and its `starting_after` cursor.
  seq                 bigserial not null unique,
  amount              integer not null check (amount > 0),
  currency            text not null,
  status              text not null check (status in ('requires_payment_method', 'requires_confirmation', 'requires_capture', 'succeeded', 'canceled')),
  capture_method      text not null check (capture_method in ('automatic', 'manual')),
  payment_method      text,
  card_brand          text,
  card_last4          text,
  amount_capturable   integer not null default 0,
  amount_received     integer not null default 0,
  amount_refunded     integer not null default 0 check (amount_refunded >= 0),
  last_payment_error  jsonb,
  cancellation_reason text,
  metadata            jsonb not null default '{}',
  created             timestamptz not null default now(),
  check (amount_refunded <= amount_received)
);

create table refunds (
  id             text primary key,
  seq            bigserial not null unique,
  payment_intent text not null references payment_intents (id),
  amount         integer not null check (amount > 0),
  currency       text not null,
  status         text not null check (status in ('succeeded')),
  reason         text,
  metadata       jsonb not null default '{}',
  created        timestamptz not null default now()
);
create index refunds_by_intent on refunds (payment_intent);

-- Stripe's idempotency: a key's first request is done once; the same key with the same request
-- gets the first answer again, with another request an error. `status` 0 while the first runs.
create table idempotency_keys (
  key          text primary key,
  request_hash text not null,
  status       integer not null,
  body         jsonb,
  created      timestamptz not null default now()
);

-- Events for the webhook endpoint, as Stripe sends them: each delivered until it is acknowledged.
create table events (
  id           text primary key,
  seq          bigserial not null unique,
  type         text not null,
  payload      jsonb not null,
  created      timestamptz not null default now(),
  delivered_at timestamptz,
  attempts     integer not null default 0,
  next_try_at  timestamptz not null default now(),
  -- How many more times it is to be delivered: 2 for one sent twice, as Stripe sometimes does.
  copies       integer not null default 1
);
create index events_undelivered on events (next_try_at) where delivered_at is null;
