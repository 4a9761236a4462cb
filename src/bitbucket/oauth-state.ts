// The OAuth `state`: an HMAC (key CODEWAZE_ADMIN_TOKEN) over account id, provider, timestamp and
// nonce. It expires after 15 minutes, works once (the callback records the nonce), and stops
// working when the admin token changes.
import crypto from 'node:crypto';

export const STATE_TTL_MS = 15 * 60_000;

export interface InstallState {
  accountId: string;
  provider: 'bitbucket';
  issuedAt: number;
  nonce: string;
}

function sign(payload: string, key: string): string {
  return crypto.createHmac('sha256', key).update(payload).digest('base64url');
}

export function createState(accountId: string, key: string, now: Date): { state: string; nonce: string } {
  const nonce = crypto.randomBytes(16).toString('base64url');
  const payload = Buffer.from(JSON.stringify({ a: accountId, p: 'bitbucket', t: now.getTime(), n: nonce })).toString('base64url');
  return { state: `${payload}.${sign(payload, key)}`, nonce };
}

/** The decoded state if its signature, provider and age are right; null otherwise (never why). */
export function verifyState(state: string | undefined, key: string, now: Date): InstallState | null {
  if (typeof state !== 'string' || state.length > 1024) return null;
  const [payload, signature, extra] = state.split('.');
  if (!payload || !signature || extra !== undefined) return null;
  const expected = Buffer.from(sign(payload, key));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !crypto.timingSafeEqual(expected, given)) return null;
  let decoded: { a?: unknown; p?: unknown; t?: unknown; n?: unknown };
  try {
    decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  const { a, p, t, n } = decoded;
  if (typeof a !== 'string' || p !== 'bitbucket' || typeof t !== 'number' || typeof n !== 'string') return null;
  const age = now.getTime() - t;
  if (age < -60_000 || age > STATE_TTL_MS) return null;
  return { accountId: a, provider: 'bitbucket', issuedAt: t, nonce: n };
}
