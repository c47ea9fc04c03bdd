-- Identity data is sealed with AES-256-GCM by the service. Values written before this migration are
-- kept as plaintext bytes until `npm run keys:reencrypt` seals them.
ALTER TABLE "jobs" ALTER COLUMN "id_info" TYPE BYTEA USING convert_to("id_info"::text, 'UTF8');
ALTER TABLE "jobs" ADD COLUMN "purged_at" TIMESTAMPTZ(3);

-- Retention purges raw bodies; the rows (hashes, sizes, times, trust) stay as evidence.
ALTER TABLE "callback_events" ALTER COLUMN "body" DROP NOT NULL;
ALTER TABLE "callback_events" ADD COLUMN "purged_at" TIMESTAMPTZ(3);
ALTER TABLE "status_snapshots" ALTER COLUMN "body" DROP NOT NULL;
ALTER TABLE "status_snapshots" ADD COLUMN "purged_at" TIMESTAMPTZ(3);

-- Stored evidence stays immutable, except to the two maintenance tasks that must rewrite bodies
-- (re-encryption under a new key, purge at the end of retention). They announce themselves with
-- `SET LOCAL smileid.maintenance = 'on'` inside their transaction.
CREATE OR REPLACE FUNCTION "forbid_update"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('smileid.maintenance', true) = 'on' THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$;

-- The id of the key that sealed a value (see src/security/field-cipher.ts for the layout), or NULL for
-- plaintext: lets re-encryption find the rows that are not under the newest key.
CREATE FUNCTION "sealed_key_id"(value BYTEA) RETURNS TEXT LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT CASE WHEN length(value) > 30 AND get_byte(value, 0) = 1
              THEN convert_from(substring(value FROM 3 FOR get_byte(value, 1)), 'UTF8') END
$$;
