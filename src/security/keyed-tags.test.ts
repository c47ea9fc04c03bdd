import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseKeyring } from './field-cipher.js';
import { createKeyedTags, TAG_BYTES } from './keyed-tags.js';

const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
const [newer, older] = [key('newer'), key('older')];
const value = Buffer.from('{"xid":"10","id":"7"}');

describe('keyed tags', () => {
  it('verifies a tag made under any listed key, and tags under the newest', () => {
    const rotated = createKeyedTags(parseKeyring([newer, older]), 'purpose');
    const byOlder = createKeyedTags(parseKeyring([older]), 'purpose').tag('changes', value);
    expect(rotated.verify('changes', value, byOlder)).toBe(true);
    const byRotated = rotated.tag('changes', value);
    expect(byRotated).toHaveLength(TAG_BYTES);
    expect(createKeyedTags(parseKeyring([newer]), 'purpose').verify('changes', value, byRotated)).toBe(true);
    expect(createKeyedTags(parseKeyring([older]), 'purpose').verify('changes', value, byRotated)).toBe(false);
  });

  it('refuses a tag of another context, another purpose, another value, or of the wrong length', () => {
    const tags = createKeyedTags(parseKeyring([newer]), 'purpose');
    const tag = tags.tag('changes', value);
    expect(tags.verify('jobs', value, tag)).toBe(false);
    expect(createKeyedTags(parseKeyring([newer]), 'another purpose').verify('changes', value, tag)).toBe(
      false,
    );
    expect(tags.verify('changes', Buffer.from('{"xid":"10","id":"8"}'), tag)).toBe(false);
    expect(tags.verify('changes', value, tag.subarray(0, 8))).toBe(false);
  });

  it('derives its keys: a tag is not the HMAC of the value under the data key itself', () => {
    const raw = Buffer.from(newer.slice(newer.indexOf(':') + 1), 'base64');
    const direct = createHmac('sha256', raw).update('changes').update('\0').update(value).digest();
    expect(createKeyedTags(parseKeyring([newer]), 'purpose').tag('changes', value)).not.toEqual(
      direct.subarray(0, TAG_BYTES),
    );
  });
});
