import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** Smile ID's production callback sources (docs/smile-id.md#source-addresses); the sandbox list is not published. */
export const SMILE_PRODUCTION_SOURCES = ['34.240.137.52', '44.230.128.108', '52.36.32.43', '52.213.46.74'];

/**
 * Builds a predicate over client addresses from CIDRs or single addresses. An empty list allows every
 * address. IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) are judged as the IPv4 address they carry.
 */
export function createSourceAllowlist(entries: readonly string[]): (address: string) => boolean {
  if (entries.length === 0) return () => true;
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    const type = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
    if (!type) throw new Error(`not an IP address or CIDR: ${entry}`);
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return (address) => {
    const plain = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
    if (isIPv4(plain)) return list.check(plain, 'ipv4');
    if (isIPv6(plain)) return list.check(plain, 'ipv6');
    return false;
  };
}
