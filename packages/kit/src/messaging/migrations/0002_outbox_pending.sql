-- The relay's work list apart from the events themselves: one narrow row per event not yet
-- published, written with the event (same statement, same transaction) and deleted once the
-- transport has accepted it. Marking a wide outbox row sent was an update that rewrote the row
-- and every index on it (no HOT update: `sent_at` was in the partial indexes' predicates); a
-- delete here is about a third of that work per event (measured on PGlite, `bench/README.md`).
-- The outbox itself keeps every event, for the HTTP feed and for inspection.
-- No foreign key to `baton_outbox`: both rows are written by one statement, and the check would
-- cost every write for a guarantee that statement already gives.
create table baton_outbox_pending (
  position     bigint primary key,
  aggregate_id text not null
);
-- The claim's guard: is there an earlier pending event of the same aggregate?
create index baton_outbox_pending_by_aggregate on baton_outbox_pending (aggregate_id, position);

insert into baton_outbox_pending (position, aggregate_id)
  select position, aggregate_id from baton_outbox where sent_at is null;

drop index baton_outbox_unsent;
drop index baton_outbox_unsent_by_aggregate;
alter table baton_outbox drop column sent_at;

-- The relay's claim on PGlite (see `relay.ts`), as a function so that its plan is made once per
-- connection and kept: PGlite plans in WebAssembly on the service's one thread, and planning this
-- query each time cost about as much as running it. On PostgreSQL the relay sends the same query
-- with `for update skip locked` instead, which a replica needs and PGlite does not.
create function baton_outbox_claim(batch_size integer, held bigint[])
  returns table (claimed_position bigint, claimed_event jsonb)
  language plpgsql stable
  set plan_cache_mode = force_generic_plan
as $$
begin
  return query
    select o.position, o.event from baton_outbox_pending q join baton_outbox o on o.position = q.position
    where not exists (select 1 from baton_outbox_pending p
                      where p.aggregate_id = q.aggregate_id and p.position < q.position)
      and q.position <> all(held)
    order by q.position
    limit batch_size;
end
$$;

-- The relay's mark on PGlite, for the same reason: a kept plan.
create function baton_outbox_sent(positions bigint[]) returns void
  language plpgsql
  set plan_cache_mode = force_generic_plan
as $$
begin
  delete from baton_outbox_pending where position = any(positions);
end
$$;
