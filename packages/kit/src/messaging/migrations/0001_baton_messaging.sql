-- The kit's messaging tables, the same in every service that publishes or consumes events.

-- The transactional outbox: an event is written here in the same transaction as the change it
-- describes, and a relay publishes it afterwards. `position` is the order of writing; the
-- relay publishes the first unsent event of each aggregate, so an aggregate's events leave in
-- order. `feed_position` is the order of the HTTP feed (the broker-less transport): stamped by
-- the relay, one batch at a time, so a reader never sees a later position before an earlier one.
create table baton_outbox (
  position      bigserial primary key,
  event_id      uuid not null unique,
  aggregate_id  text not null,
  sequence      integer not null,
  type          text not null,
  event         jsonb not null,
  created_at    timestamptz not null default now(),
  sent_at       timestamptz,
  feed_position bigint unique,
  attempts      integer not null default 0,
  last_error    text
);
create index baton_outbox_unsent on baton_outbox (position) where sent_at is null;
create index baton_outbox_unsent_by_aggregate on baton_outbox (aggregate_id, position) where sent_at is null;

-- The last sequence number given to each aggregate's events. Its row lock also orders two
-- transactions writing events for one aggregate: the second waits for the first to commit.
create table baton_outbox_aggregates (
  aggregate_id  text primary key,
  last_sequence integer not null
);

-- The inbox: one row per event a subscription has handled, written in the same transaction as
-- the handler's own changes, so a redelivered event is recognised and skipped.
create table baton_inbox (
  subscription text not null,
  event_id     text not null,
  source       text not null,
  type         text not null,
  aggregate_id text not null,
  sequence     integer not null,
  outcome      text not null check (outcome in ('handled', 'ignored')),
  handled_at   timestamptz not null default now(),
  primary key (subscription, event_id)
);

-- How far a subscription has got with each aggregate: an event is applied only right after its
-- predecessor, whatever order the transport delivered them in.
create table baton_inbox_aggregates (
  subscription  text not null,
  source        text not null,
  aggregate_id  text not null,
  last_sequence integer not null,
  primary key (subscription, source, aggregate_id)
);

-- Events a subscription gave up on after its attempts ran out, with the last error; the admin
-- API lists and replays them. `replayed_at` is set once a replay has applied one.
create table baton_dead_letters (
  id           bigserial primary key,
  subscription text not null,
  event_id     text not null,
  type         text not null,
  event        jsonb not null,
  error        text not null,
  attempts     integer not null,
  dead_at      timestamptz not null default now(),
  replayed_at  timestamptz,
  unique (subscription, event_id)
);

-- Where a subscription has read up to in each publisher's HTTP feed.
create table baton_feed_cursors (
  subscription text not null,
  source       text not null,
  position     bigint not null,
  updated_at   timestamptz not null default now(),
  primary key (subscription, source)
);
