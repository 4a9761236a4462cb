// Install attempts: the callback records the state's nonce (once only) with the sealed code; the
// install workflow's activities turn the code into sealed tokens, then into the installation.
import type { DataSource } from 'typeorm';

export const ATTEMPT_TTL_MS = 30 * 60_000; // longer than the state's 15 minutes, so replays stay refused

/** Returns the attempt id, or null when this nonce was used before (a replayed state). */
export async function recordAttempt(ds: DataSource, accountId: string, nonce: string, sealedCode: string, now: Date): Promise<string | null> {
  await ds.query(`DELETE FROM install_attempts WHERE expires_at < $1`, [now]);
  const rows: Array<{ id: string }> = await ds.query(
    `INSERT INTO install_attempts (account_id, nonce, code, expires_at)
     SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM accounts WHERE id = $1)
     ON CONFLICT (nonce) DO NOTHING RETURNING id`,
    [accountId, nonce, sealedCode, new Date(now.getTime() + ATTEMPT_TTL_MS)],
  );
  return rows[0]?.id ?? null;
}

export interface AttemptRow {
  id: string;
  account_id: string;
  code: string | null;
  tokens: string | null;
  expires_at: Date;
}

export async function loadAttempt(ds: DataSource, attemptId: string): Promise<AttemptRow | null> {
  const rows: AttemptRow[] = await ds.query(`SELECT id, account_id, code, tokens, expires_at FROM install_attempts WHERE id = $1`, [attemptId]);
  return rows[0] ?? null;
}

export async function storeAttemptTokens(ds: DataSource, attemptId: string, sealedTokens: string): Promise<void> {
  await ds.query(`UPDATE install_attempts SET tokens = $2, code = NULL WHERE id = $1`, [attemptId, sealedTokens]);
}

export async function clearAttempt(ds: DataSource, attemptId: string): Promise<void> {
  await ds.query(`UPDATE install_attempts SET tokens = NULL, code = NULL WHERE id = $1`, [attemptId]);
}

/** True once saveInstallation moved the attempt's tokens into the installation (code and tokens both cleared). */
export async function attemptSaved(ds: DataSource, attemptId: string): Promise<boolean> {
  const attempt = await loadAttempt(ds, attemptId);
  return attempt !== null && attempt.code === null && attempt.tokens === null;
}
