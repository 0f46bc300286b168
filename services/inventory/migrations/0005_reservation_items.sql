-- The lines of a reservation, with the price each unit had when it was reserved: the order
-- is charged that price even if the catalogue changes before checkout ends.
create table reservation_items (
  order_id    uuid not null references reservations (order_id) on delete cascade,
  sku         text not null references products (sku),
  quantity    integer not null check (quantity between 1 and 1000),
  price_cents integer not null check (price_cents >= 0),
  currency    text not null check (char_length(currency) = 3),
  primary key (order_id, sku)
);
