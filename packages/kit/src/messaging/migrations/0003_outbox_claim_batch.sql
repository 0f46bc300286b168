-- The relay's claim on PGlite (see `relay.ts`), cheaper per event and as fast after a million
-- events sent as after the first:
-- - It answers one row, the positions and the events' JSON as one array, instead of a row per
--   event: PGlite copies and decodes each result row and field in JavaScript one by one, which
--   cost more than finding the rows (an event's row and its parse were about a third of the claim).
-- - Its joins are nested loops over the indexes whatever the statistics say. The plan is made
--   once per connection, usually on an empty outbox, and from an empty outbox's statistics the
--   planner chose a merge join that read the outbox from its first row on every claim: 1.3 ms a
--   batch at the start, 8 ms after 20,000 events. PGlite runs no autovacuum to correct them.
drop function baton_outbox_claim(integer, bigint[]);

create function baton_outbox_claim(batch_size integer, held bigint[])
  returns table (positions bigint[], events text)
  language plpgsql stable
  set plan_cache_mode = force_generic_plan
  set enable_mergejoin = off
  set enable_hashjoin = off
  set enable_seqscan = off
as $$
begin
  return query
    select array_agg(o.position order by o.position),
           '[' || string_agg(o.event::text, ',' order by o.position) || ']'
    from (select q.position from baton_outbox_pending q
          where not exists (select 1 from baton_outbox_pending p
                            where p.aggregate_id = q.aggregate_id and p.position < q.position)
            and q.position <> all(held)
          order by q.position
          limit batch_size) c
    join baton_outbox o on o.position = c.position;
end
$$;
