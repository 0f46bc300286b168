-- Checkout with payment, as a saga: one row per checkout, its step written before each call is
-- made, so a process that dies mid-way leaves the step to go on from (see docs/checkout.md).
create table checkouts (
  order_id        uuid primary key,
  user_id         uuid not null,
  idempotency_key text not null,
  -- The lines in the order the shopper sent them: [{ "sku", "quantity" }].
  items           jsonb not null,
  -- The provider's name for how to pay (pm_card_visa); never a card number.
  payment_method  text not null,
  -- Who the order is for, as the users service said at checkout: { "email", "name" }.
  customer        jsonb not null,
  traceparent     text,
  -- What is to be done next. reserving → authorizing → capturing → confirming → done, or
  -- compensating → failed. The order row exists from capturing on.
  step            text not null check (step in ('reserving', 'authorizing', 'capturing', 'confirming', 'done', 'compensating', 'failed')),
  -- The reserved lines with their prices and names, once stock is held.
  reserved        jsonb,
  -- Why it failed, as the answer the shopper gets: { "status", "body" }; null while it has not.
  failure         jsonb,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now()
);
-- The reconciler's work: checkouts nobody is driving any more.
create index checkouts_unfinished on checkouts (updated_at) where step not in ('done', 'failed');

-- A paid order: pending while its payment is only held, paid once taken.
alter table orders drop constraint orders_status_check;
alter table orders add constraint orders_status_check check (status in ('pending', 'confirmed', 'paid', 'cancelled'));
-- The order's payment as the saga last heard of it; null for an order placed without payment.
alter table orders
  add column payment_status text check (payment_status in ('authorized', 'captured', 'voided', 'refunded')),
  add column card_brand     text,
  add column card_last4     text,
  add column refunded_cents bigint,
  add column refunded_at    timestamptz;
