-- Private signing keys are kept sealed (AES-256-GCM under a key-encryption key from the
-- environment, the kid as associated data), never in plain text. A key an earlier version kept
-- in plain text is retired here, not encrypted: its plain text may linger in the WAL, in old row
-- versions and in backups, so it must not sign again. Its public half stays published for one
-- token lifetime, so the tokens it signed still verify until they expire, and the service makes
-- a new sealed key when it starts.
alter table signing_keys add column sealed_private_key bytea;

update signing_keys
   set retired_at = coalesce(retired_at, clock_timestamp()), private_jwk = null
 where private_jwk is not null;

alter table signing_keys drop constraint signing_keys_check;
alter table signing_keys add constraint signing_keys_never_plain check (private_jwk is null);
alter table signing_keys add constraint signing_keys_active_can_sign check (retired_at is not null or sealed_private_key is not null);
