-- Orders as this service records them; users and inventory keep their own data.
create table orders (
  id          uuid primary key,
  user_id     uuid not null,
  status      text not null check (status in ('pending', 'confirmed', 'cancelled')),
  total_cents bigint not null check (total_cents >= 0),
  currency    text not null check (char_length(currency) = 3),
  created_at  timestamptz not null default now()
);
create index orders_by_user on orders (user_id, created_at desc);
