-- What an account may do beyond shopping. `staff` manages the catalogue and its stock; it is
-- granted at sign-up to the emails in STAFF_EMAILS. Only known roles can be stored.
alter table users add column roles text[] not null default '{}' check (roles <@ array['staff']::text[]);
