#!/bin/sh
# Run once by compose's minio-setup step, at every `docker compose up`; safe to repeat. Makes the bucket
# for sealed photos, keeps it private, and gives the service a login of its own that may only read,
# write, list and delete in that bucket (the MinIO root login stays out of the service).
set -eu

mc alias set local http://minio:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"
mc mb --ignore-existing "local/$OBJECT_STORE_BUCKET"
# Private: nothing is readable without credentials.
mc anonymous set none "local/$OBJECT_STORE_BUCKET"

cat > /tmp/smileid-photos.json <<POLICY
{
  "Version": "2012-10-17",
  "Statement": [
    { "Effect": "Allow", "Action": ["s3:GetBucketLocation", "s3:ListBucket"],
      "Resource": ["arn:aws:s3:::$OBJECT_STORE_BUCKET"] },
    { "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
      "Resource": ["arn:aws:s3:::$OBJECT_STORE_BUCKET/*"] }
  ]
}
POLICY
mc admin policy create local smileid-photos /tmp/smileid-photos.json
# Adding a user that exists sets its secret again, so a changed AWS_SECRET_ACCESS_KEY takes effect.
mc admin user add local "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY"
mc admin policy attach local smileid-photos --user "$AWS_ACCESS_KEY_ID" 2>/dev/null || true
echo "bucket $OBJECT_STORE_BUCKET ready for $AWS_ACCESS_KEY_ID"
