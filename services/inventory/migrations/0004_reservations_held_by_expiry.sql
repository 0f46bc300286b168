-- The sweeper's question, "which held reservations are past their time?", reads only this.
create index reservations_held_by_expiry on reservations (expires_at) where status = 'held';
