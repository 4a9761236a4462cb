// The sandbox's demo account, made once through the admin API. Its owner's API token (shown only
// once by the API) is kept under DATA_DIR (mode 0600) like the other dev secrets, so the next run
// signs in with the same token instead of making a second account: that file is what marks the
// demo account as made.
import fs from 'node:fs';
import path from 'node:path';
import { DevStackError } from './processes';
import { saveDevSecret } from './secrets';

export const DEMO_TOKEN_FILE = 'demo-api-token';

export interface DemoAccount {
  token: string;
  /** Where the token is kept. */
  file: string;
  email: string;
  accountName: string;
  /** False when an earlier run's account was found again. */
  created: boolean;
}

interface Answer<T> {
  status: number;
  /** The JSON answer when the status says success; otherwise what the error shape or the text says. */
  body: T;
  error: string;
}

async function call<T>(url: string, init: RequestInit): Promise<Answer<T>> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  const error = (body as { error?: { message?: string } } | null)?.error?.message ?? text.slice(0, 200);
  return { status: res.status, body: body as T, error };
}

export async function ensureDemoAccount(opts: { apiUrl: string; adminToken: string; dataDir: string; name?: string; email?: string }): Promise<DemoAccount> {
  const name = opts.name ?? 'Demo';
  const email = opts.email ?? 'demo@example.test';
  const file = path.join(opts.dataDir, DEMO_TOKEN_FILE);
  const saved = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : '';
  if (saved) {
    const me = await call<{ user: { email: string }; account: { name: string } }>(`${opts.apiUrl}/v1/me`, { headers: { authorization: `Bearer ${saved}` } });
    if (me.status === 200) return { token: saved, file, email: me.body.user.email, accountName: me.body.account.name, created: false };
    if (me.status !== 401) {
      throw new DevStackError(`Checking the demo account's API token (in ${file}) got ${me.status} from GET /v1/me (${me.error}): see ${opts.apiUrl}/readyz and the lines above, then run the sandbox again.`);
    }
    // 401: the database was reset since (another DATABASE_URL, a removed DATA_DIR/postgres): make it again.
  }
  const made = await call<{ token: string; account: { name: string } }>(`${opts.apiUrl}/v1/admin/accounts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${opts.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name, ownerEmail: email }),
  });
  if (made.status !== 201) {
    throw new DevStackError(`Could not create the demo account: POST /v1/admin/accounts answered ${made.status} (${made.error}): see the lines above, then run the sandbox again.`);
  }
  saveDevSecret(opts.dataDir, DEMO_TOKEN_FILE, made.body.token);
  return { token: made.body.token, file, email, accountName: made.body.account.name, created: true };
}
