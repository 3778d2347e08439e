-- Up Migration

-- NOTIFY only when a relay is waiting for one.
--
-- A notifying COMMIT takes a cluster-wide lock, held through its WAL flush, so every writer paid for
-- a wake-up even while the relay was busy draining and would find the change anyway. Measured with
-- 8 concurrent single-row writers: NOTIFY in every transaction cost about half of the counted write
-- throughput (docs/write-path.md).
--
-- The protocol, with one advisory lock (key 1952541804, 1: "tall", 1):
-- - A relay that found the outbox empty and is about to wait takes the lock EXCLUSIVELY, in its own
--   session, and holds it while it waits (packages/db/src/relay-wakeup.ts, used by the worker).
-- - A writer, after queueing its outbox rows, tries to take the lock SHARED until its transaction
--   ends. If it cannot, a relay is waiting (or about to): it notifies. If it can, no relay is
--   waiting, and it commits silently.
-- Why no change is missed: the relay's exclusive request waits until every writer holding the lock
-- shared has committed or rolled back; only then does it re-check the outbox and wait. So each
-- silent writer either committed before that re-check (the relay sees its rows) or started after
-- the relay's request (its try fails: it notifies). A relay that cannot get the lock within its
-- timeout does not wait on notifications but polls. The poll remains the backstop for everything.
CREATE OR REPLACE FUNCTION tally.wake_relay() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT pg_try_advisory_xact_lock_shared(1952541804, 1) THEN
    PERFORM pg_notify('tally_outbox', '');
  END IF;
END
$$;
COMMENT ON FUNCTION tally.wake_relay() IS
  'Notifies tally_outbox when a relay waits (holds advisory lock 1952541804,1 exclusively); '
  'otherwise takes it shared until commit, which a relay about to wait will wait for.';

-- Down Migration

CREATE OR REPLACE FUNCTION tally.wake_relay() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('tally_outbox', '');
END
$$;
