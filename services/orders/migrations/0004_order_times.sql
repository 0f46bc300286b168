-- When an order last changed, and when it was cancelled (null while it is not). Orders placed
-- before this migration count as last changed when they were placed.
alter table orders add column updated_at timestamptz, add column cancelled_at timestamptz;
update orders set updated_at = created_at;
alter table orders alter column updated_at set not null, alter column updated_at set default now();
