import { describe, expect, it } from 'vitest';
import { objectStoreAddress, objectStoreDependency } from './object-store-outages.js';

describe('the object store as an operator knows it', () => {
  it('names an S3-compatible server by its host and the bucket, never by the credentials its URL may carry', () => {
    const dependency = objectStoreDependency({
      bucket: 'photos',
      endpoint: 'http://minio-user:minio-secret@minio:9000',
    });
    expect(dependency).toMatchObject({
      name: 'Object store',
      address: 'minio:9000/photos',
      variable: 'AWS_ENDPOINT_URL_S3',
    });
    expect(JSON.stringify(dependency)).not.toContain('secret');
    expect(dependency.remedy).toMatch(/docker compose up -d minio/);
  });

  it('names a bucket on AWS itself by its s3 address, set by OBJECT_STORE_BUCKET', () => {
    expect(objectStoreDependency({ bucket: 'photos', endpoint: undefined })).toMatchObject({
      address: 's3://photos',
      variable: 'OBJECT_STORE_BUCKET',
    });
  });

  it('names an endpoint it cannot parse by the variable rather than by its text', () => {
    expect(objectStoreAddress({ bucket: 'photos', endpoint: 'not a url' })).toBe(
      'bucket photos at the address in AWS_ENDPOINT_URL_S3',
    );
  });
});
