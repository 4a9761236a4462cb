// Which IP addresses a pasted git URL may reach. Anything that is not plain public unicast
// (loopback, private, link-local, CGNAT, multicast, documentation, reserved, and IPv6 forms
// that embed one of those) is "special" and refused unless private hosts are allowed.
import net from 'node:net';

/** 4 bytes for IPv4, 16 for IPv6; null when `text` is not an IP literal. Accepts "[v6]" and zones. */
export function parseIp(text: string): Uint8Array | null {
  let s = text.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const kind = net.isIP(s);
  if (kind === 4) return Uint8Array.from(s.split('.').map((p) => Number(p)));
  if (kind === 6) return parseIpv6(s);
  return null;
}

function parseIpv6(s: string): Uint8Array | null {
  const bytes = new Uint8Array(16);
  let head = s;
  let tail = '';
  const dbl = s.indexOf('::');
  if (dbl >= 0) {
    head = s.slice(0, dbl);
    tail = s.slice(dbl + 2);
  }
  const groups = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      if (it.includes('.')) {
        if (i !== items.length - 1 || net.isIP(it) !== 4) return null;
        const [a, b, c, d] = it.split('.').map(Number);
        out.push((a << 8) | b, (c << 8) | d);
      } else {
        if (!/^[0-9a-f]{1,4}$/i.test(it)) return null;
        out.push(parseInt(it, 16));
      }
    }
    return out;
  };
  const h = groups(head);
  const t = groups(tail);
  if (!h || !t) return null;
  if (dbl < 0 && h.length !== 8) return null;
  if (h.length + t.length > 8) return null;
  const all = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  all.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  return bytes;
}

function inPrefix(addr: Uint8Array, prefix: number[], bits: number): boolean {
  for (let i = 0; i < bits; i++) {
    const byte = i >> 3;
    const mask = 0x80 >> (i & 7);
    if ((addr[byte] & mask) !== ((prefix[byte] ?? 0) & mask)) return false;
  }
  return true;
}

const V4_SPECIAL: Array<[number[], number, string]> = [
  [[0, 0, 0, 0], 8, 'unspecified'],
  [[10, 0, 0, 0], 8, 'private'],
  [[100, 64, 0, 0], 10, 'shared (CGNAT)'],
  [[127, 0, 0, 0], 8, 'loopback'],
  [[169, 254, 0, 0], 16, 'link-local'],
  [[172, 16, 0, 0], 12, 'private'],
  [[192, 0, 0, 0], 24, 'reserved'],
  [[192, 0, 2, 0], 24, 'documentation'],
  [[192, 88, 99, 0], 24, 'reserved'],
  [[192, 168, 0, 0], 16, 'private'],
  [[198, 18, 0, 0], 15, 'benchmarking'],
  [[198, 51, 100, 0], 24, 'documentation'],
  [[203, 0, 113, 0], 24, 'documentation'],
  [[224, 0, 0, 0], 4, 'multicast'],
  [[240, 0, 0, 0], 4, 'reserved'],
];

// Inside 2000::/3 (global unicast), the blocks that are not ordinary public addresses.
const V6_SPECIAL_GLOBAL: Array<[number[], number, string]> = [
  [[0x20, 0x01, 0x0d, 0xb8], 32, 'documentation'],
  [[0x20, 0x01, 0x00, 0x00], 23, 'reserved'], // IETF protocol assignments, Teredo, ORCHID, benchmarking
  [[0x3f, 0xff], 20, 'documentation'],
];

function classifyV4(b: Uint8Array): string | null {
  for (const [prefix, bits, label] of V4_SPECIAL) if (inPrefix(b, prefix, bits)) return label;
  return null;
}

/**
 * Why `ip` is not a public unicast address ("loopback", "private", "link-local", …), or null
 * when it is public. Text that is not an IP literal is reported as "not an IP address".
 */
export function specialAddressKind(ip: string): string | null {
  const b = parseIp(ip);
  if (!b) return 'not an IP address';
  if (b.length === 4) return classifyV4(b);
  const zero = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  if (inPrefix(b, [...zero, 0xff, 0xff], 96)) return classifyV4(b.subarray(12)); // ::ffff:a.b.c.d
  if (inPrefix(b, [0, 0x64, 0xff, 0x9b], 96)) return classifyV4(b.subarray(12)); // NAT64 64:ff9b::/96
  if (inPrefix(b, [0x20, 0x02], 16)) return classifyV4(b.subarray(2, 6)); // 6to4 2002:a.b.c.d::/48
  if (b.every((x, i) => i === 15 ? x === 0 || x === 1 : x === 0)) return b[15] === 1 ? 'loopback' : 'unspecified';
  if (inPrefix(b, [0xfc], 7)) return 'unique-local';
  if (inPrefix(b, [0xfe, 0x80], 10)) return 'link-local';
  if (inPrefix(b, [0xfe, 0xc0], 10)) return 'site-local';
  if (inPrefix(b, [0xff], 8)) return 'multicast';
  if (!inPrefix(b, [0x20], 3)) return 'reserved'; // ::/8 (IPv4-compatible), 100::/64, 64:ff9b:1::/48, …
  for (const [prefix, bits, label] of V6_SPECIAL_GLOBAL) if (inPrefix(b, prefix, bits)) return label;
  return null;
}

export function isPublicAddress(ip: string): boolean {
  return specialAddressKind(ip) === null;
}
