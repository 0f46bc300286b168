-- The consumer's claim (see `inbox.ts`) as a function, so that its plan is made once per
-- connection and kept: PGlite plans on the service's one thread, and planned the statement anew
-- for every batch. The plan is usually made while the tables are empty (and PGlite runs no
-- autovacuum to correct their statistics later), so the query leaves the planner one sensible
-- choice: each event looks up its own aggregate by the whole primary key. Written as a plain
-- EXISTS and join, the plan made on empty tables read every aggregate of the subscription in
-- every batch, and a batch grew slower with each aggregate seen (1 ms to 4 ms for one event
-- after 4,000 aggregates).
--  - `input`: the batch, each event with its aggregate's last applied sequence before this
--    statement (every part of one statement sees the tables as they were before it).
--  - `advanced`: an aggregate's first event creates its row, a later one moves it on by exactly
--    one; a gap or a repeat changes nothing. A later event of an aggregate never seen inserts
--    nothing, so it cannot start the aggregate half-way.
--  - `recorded`: the inbox row of every event that advanced its aggregate.
--  - the answer: whether each event advanced its aggregate, and the sequence before, to tell a
--    repeat (already applied) from a gap (waiting for its predecessor).
create function baton_inbox_claim(
  in_subscription text, event_ids text[], sources text[], types text[], aggregate_ids text[], sequences integer[], outcomes text[])
  returns table (event_id text, claimed boolean, last_sequence integer)
  language plpgsql
  set plan_cache_mode = force_generic_plan
  set enable_mergejoin = off
  set enable_hashjoin = off
  set enable_seqscan = off
as $$
begin
  return query
    with input as (
      select t.*,
             (select a.last_sequence from baton_inbox_aggregates a
              where a.subscription = in_subscription and a.source = t.source and a.aggregate_id = t.aggregate_id) as last
      from unnest(event_ids, sources, types, aggregate_ids, sequences, outcomes)
        as t(event_id, source, type, aggregate_id, sequence, outcome)
    ),
    advanced as (
      insert into baton_inbox_aggregates as a (subscription, source, aggregate_id, last_sequence)
      select in_subscription, i.source, i.aggregate_id, i.sequence from input i
      where i.sequence = 1 or i.last is not null
      on conflict (subscription, source, aggregate_id) do update set last_sequence = excluded.last_sequence
        where a.last_sequence = excluded.last_sequence - 1
      returning a.source, a.aggregate_id
    ),
    recorded as (
      insert into baton_inbox (subscription, event_id, source, type, aggregate_id, sequence, outcome)
      select in_subscription, i.event_id, i.source, i.type, i.aggregate_id, i.sequence, i.outcome
      from input i join advanced v on v.source = i.source and v.aggregate_id = i.aggregate_id
      on conflict do nothing
      returning 1
    )
    select i.event_id,
           exists (select 1 from advanced v where v.source = i.source and v.aggregate_id = i.aggregate_id),
           coalesce(i.last, 0)
    from input i;
end
$$;
