// The delivery's X-Hub-Signature (CONTRACT §8): `sha256=<hex HMAC-SHA256 of the raw body>` made
// with the account's webhook secret, checked over the raw bytes, in constant time, before
// anything of the body is read.
import crypto from 'node:crypto';

const SIGNATURE = /^sha256=([0-9a-f]{64})$/i;

export function verifySignature(rawBody: Buffer, header: string | undefined, secret: string | crypto.KeyObject): boolean {
  const match = SIGNATURE.exec(header ?? '');
  if (!match) return false;
  const expected = crypto.createHmac('sha256', secret).update(rawBody).digest();
  return crypto.timingSafeEqual(expected, Buffer.from(match[1], 'hex'));
}
