import { BlockList, isIP } from 'node:net';

/**
 * Where a webhook URL points, as far as its text tells (a name is not resolved: a DNS name that leads
 * to an internal address is not caught here, only by the network's own egress rules).
 *
 * Webhooks are POSTs the service makes to whatever NOTIFY_WEBHOOK_URLS names, with its retries: a
 * server-side request forgery waiting to happen if the list points somewhere only the service can reach.
 * Pointed at the service's own listener, the service posts signed notifications to itself, each of which
 * fails and is retried; pointed at its own Postgres or Redis, the bodies land on those protocols. Both
 * are refused. Loopback, unspecified and link-local addresses (cloud metadata services live at
 * 169.254.169.254) are where the host's own services and sidecars listen, never where another team's
 * service usually does: they are allowed, with a warning. Private ranges (10/8, 172.16/12, 192.168/16,
 * fc00::/7) are the ordinary home of internal services and pass silently.
 */

export type InternalKind = 'loopback' | 'unspecified' | 'link-local';

const LOCAL_NAMES = /^(?:localhost|[\w-]+\.localhost)$/;

const ranges: Array<[InternalKind, BlockList]> = (
  [
    [
      'loopback',
      [
        ['127.0.0.0', 8, 'ipv4'],
        ['::1', 128, 'ipv6'],
      ],
    ],
    [
      'unspecified',
      [
        ['0.0.0.0', 8, 'ipv4'],
        ['::', 128, 'ipv6'],
      ],
    ],
    [
      'link-local',
      [
        ['169.254.0.0', 16, 'ipv4'],
        ['fe80::', 10, 'ipv6'],
      ],
    ],
  ] as const
).map(([kind, subnets]) => {
  const list = new BlockList();
  for (const [network, prefix, family] of subnets) list.addSubnet(network, prefix, family);
  return [kind, list];
});

/** A host as an address or a name: lower case, without IPv6 brackets or a final dot. */
export function normalHost(host: string): string {
  return host
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '')
    .toLowerCase();
}

/** The port the URL reaches: its own, or its scheme's. */
export function portOf(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

/** The kind of host-internal address a host is, or null (a name other than localhost counts as none). */
export function internalKind(host: string): InternalKind | null {
  const normal = normalHost(host);
  if (LOCAL_NAMES.test(normal)) return 'loopback';
  const family = isIP(normal);
  if (family === 0) return null;
  const found = ranges.find(([, list]) => list.check(normal, family === 4 ? 'ipv4' : 'ipv6'));
  return found?.[0] ?? null;
}

/** Loopback or unspecified: this machine, whatever it is called elsewhere. */
export function isThisMachine(host: string): boolean {
  const kind = internalKind(host);
  return kind === 'loopback' || kind === 'unspecified';
}

/**
 * Whether the URL reaches the listener at `host` and `port`, as far as text tells: that port, and that
 * host, or this machine when the listener is this machine's (loopback, or every interface).
 */
export function reaches(url: URL, listener: { host: string; port: number }): boolean {
  if (listener.port === 0 || portOf(url) !== listener.port) return false;
  const host = normalHost(url.hostname);
  return host === normalHost(listener.host) || (isThisMachine(host) && isThisMachine(listener.host));
}

/** Scheme, host and port: enough to name a URL in a message without its path, query or credentials. */
export function originOf(url: URL): string {
  return `${url.protocol}//${url.host}`;
}
