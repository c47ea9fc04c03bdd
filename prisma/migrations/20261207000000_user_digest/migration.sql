-- A keyed digest (HMAC, src/security/field-cipher.ts) of the user id a callback body names, and the data
-- key it was made under, so that erasure on request (DELETE /v1/users/:userId/identity-data) finds every
-- body naming the user, including those stored with no job (a job id that could not be read). The user id
-- itself stays only inside the sealed body. `user_digest_key_id` is set once the body's user was looked for
-- (`user_digest` stays null when it names none); bodies stored before this migration get theirs from
-- `npm run keys:reencrypt` (src/store/user-digests.ts), which also digests them again after a key rotation.
ALTER TABLE "callback_events" ADD COLUMN "user_digest" TEXT;
ALTER TABLE "callback_events" ADD COLUMN "user_digest_key_id" TEXT;

CREATE INDEX "callback_events_user_digest_idx" ON "callback_events"("user_digest");
