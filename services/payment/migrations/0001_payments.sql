-- One payment per order: what is held or charged on the customer's card for it, through the
-- provider. No card data: the provider's ids, the card's brand and last four digits only.
create table payments (
  id                  uuid primary key,
  order_id            uuid not null unique,
  -- 0 for an order whose payment was voided before it was ever authorised (see `voidPayment`).
  amount_cents        integer not null check (amount_cents >= 0),
  currency            text not null,
  -- The provider's name for how to pay (a test card's `pm_card_visa`), never a card number.
  method              text,
  status              text not null check (status in ('authorizing', 'authorized', 'declined', 'captured', 'voided', 'refunded')),
  provider_payment_id text unique,
  card_brand          text,
  card_last4          text check (card_last4 ~ '^[0-9]{4}$'),
  decline_code        text,
  refunded_cents      integer not null default 0 check (refunded_cents >= 0),
  created_at          timestamptz not null default now(),
  updated_at          timestamptz not null default now()
);

-- The provider's webhook events already applied: a second delivery of one changes nothing.
create table webhook_events (
  id          text primary key,
  type        text not null,
  received_at timestamptz not null default now()
);
