-- Photos leave the row: a stored body keeps its skeleton (sealed) in `body`, and its bulky strings, each
-- sealed, are objects in the object store (src/store/objects/body-vault.ts). `body_objects` counts them;
-- NULL means the body is still whole in its row (stored before object storage, while the store could not
-- be reached, or with OBJECT_STORE_INLINE=true): the worker moves such bodies out in the background, and
-- `npm run bodies:move-out` does it in batches. A column without a default changes only the catalog: no
-- table rewrite, so this runs beside live traffic. Instances still running the previous version write
-- NULL, which is moved out like any other whole body.
ALTER TABLE "callback_events" ADD COLUMN "body_objects" SMALLINT;
ALTER TABLE "status_snapshots" ADD COLUMN "body_objects" SMALLINT;

-- Where the orphan sweep has got to in the bucket's key order, so that every run goes on from there.
CREATE TABLE "maintenance_positions" (
  "name"       TEXT PRIMARY KEY,
  "position"   TEXT,
  "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now()
);
