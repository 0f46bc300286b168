-- What was sent for which event: one row per event (a redelivery finds it), with the message as
-- it went out. `seq` orders the rows as they were written, which is the order events were applied.
alter table notifications add column seq bigserial;
alter table notifications add column event_id text;
alter table notifications add column event_type text;
alter table notifications add column aggregate_id text;
alter table notifications add column body text;
alter table notifications add column message_id text;
alter table notifications add column delivered_via text check (delivered_via in ('smtp', 'file'));
create unique index notifications_one_per_event on notifications (event_id);
create index notifications_by_aggregate on notifications (aggregate_id, event_type);
