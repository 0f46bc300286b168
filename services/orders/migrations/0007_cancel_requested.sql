-- When a shopper asked to cancel the order. Written before the money goes back and the stock is
-- released: a cancel cut short between those calls (a service down, the process gone) is
-- finished by the cancel reconciler, not left half-done for a retry nobody may send.
alter table orders add column cancel_requested_at timestamptz;
create index orders_cancels_unfinished on orders (cancel_requested_at) where cancel_requested_at is not null and status <> 'cancelled';
