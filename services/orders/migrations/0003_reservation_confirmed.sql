-- Whether inventory has been told the reservation is final. An order is answered as soon as
-- it is stored; confirming the reservation may happen a moment later (a reconciler retries it),
-- while the held reservation keeps the stock safe until then.
alter table orders add column reservation_confirmed boolean not null default false;
create index orders_unconfirmed on orders (created_at) where status = 'confirmed' and not reservation_confirmed;
