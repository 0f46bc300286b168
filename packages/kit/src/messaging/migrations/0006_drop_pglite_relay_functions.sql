-- The relay's claim and mark as functions (0002, 0003) were for PGlite, which planned each
-- statement anew on the service's one thread. Baton runs on PostgreSQL only now, where the relay
-- sends its claim (`for update skip locked`) and its mark as plain statements and never calls
-- these. The consumer's `baton_inbox_claim` (0004) is still called, and stays.
drop function if exists baton_outbox_claim(integer, bigint[]);
drop function if exists baton_outbox_sent(bigint[]);
