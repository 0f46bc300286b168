-- Retention (see `prune.ts`): published outbox events, handled inbox entries and replayed dead
-- letters are deleted once older than the configured retention.

-- The highest feed position ever pruned. The feed answers 410 to a reader whose cursor is below
-- it (it missed events that are gone), and the feed publisher numbers new events above it, so
-- positions never start again from 1 after every row was pruned.
create table baton_outbox_pruned (
  singleton             boolean primary key default true check (singleton),
  through_feed_position bigint not null default 0
);
insert into baton_outbox_pruned default values;

-- BRIN indexes: rows are written in time order, so a block range summary finds the old ones at
-- the cost of a few pages, and writing a row costs next to nothing (a B-tree would add an index
-- entry to every event written and every event handled).
create index baton_outbox_created_at on baton_outbox using brin (created_at);
create index baton_inbox_handled_at on baton_inbox using brin (handled_at);
