-- The catalogue and its stock. Stock can never go below zero: the check is the last line of
-- defence behind the atomic reservation statement.
create table products (
  sku         text primary key,
  name        text not null,
  price_cents integer not null check (price_cents >= 0),
  currency    text not null default 'EUR' check (char_length(currency) = 3),
  stock       integer not null check (stock >= 0),
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);
