import { describe, expect, it } from 'vitest';
import { internalKind, portOf, reaches } from './targets.js';

const host = (url: string) => new URL(url).hostname;

describe('where a webhook URL points, as its text tells', () => {
  it.each([
    ['http://127.0.0.1/', 'loopback'],
    ['http://127.1/', 'loopback'],
    ['http://2130706433/', 'loopback'],
    ['http://localhost./', 'loopback'],
    ['http://api.localhost/', 'loopback'],
    ['http://[::1]/', 'loopback'],
    ['http://[::ffff:127.0.0.1]/', 'loopback'],
    ['http://0.0.0.0/', 'unspecified'],
    ['http://[::]/', 'unspecified'],
    ['http://169.254.169.254/', 'link-local'],
    ['http://[fe80::abcd]/', 'link-local'],
    ['http://[febf::1]/', 'link-local'],
    ['http://10.0.0.1/', null],
    ['http://192.168.1.1/', null],
    ['http://[fd00::1]/', null],
    ['http://[fec0::1]/', null],
    ['https://hooks.internal/', null],
    ['https://localhost.example.com/', null],
  ])('reads %s as %s', (url, kind) => {
    expect(internalKind(host(url))).toBe(kind);
  });

  it('takes the scheme’s port when the URL names none', () => {
    expect(portOf(new URL('http://a/'))).toBe(80);
    expect(portOf(new URL('https://a/'))).toBe(443);
    expect(portOf(new URL('https://a:8443/'))).toBe(8443);
  });

  it('reaches a listener by its host, or by this machine when it listens on this machine, on its port only', () => {
    const everywhere = { host: '0.0.0.0', port: 3000 };
    expect(reaches(new URL('http://127.0.0.1:3000/'), everywhere)).toBe(true);
    expect(reaches(new URL('http://127.0.0.1:3001/'), everywhere)).toBe(false);
    expect(reaches(new URL('http://10.0.0.1:3000/'), everywhere)).toBe(false);
    expect(reaches(new URL('http://DB.internal.:5432/'), { host: 'db.internal', port: 5432 })).toBe(true);
    expect(reaches(new URL('http://[::1]:5432/'), { host: '127.0.0.1', port: 5432 })).toBe(true);
    expect(reaches(new URL('http://127.0.0.1:0/'), { host: '127.0.0.1', port: 0 })).toBe(false);
  });
});
