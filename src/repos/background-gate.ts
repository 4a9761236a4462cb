// Background work yields to people. Bitbucket counts git operations per OAuth consumer (60,000 an
// hour) and answers 429 past it; a 429 seen by any worker, for any kind of work, backs off every
// worker's reconciles of that host (the backoff lives in PostgreSQL), while clones, fetches and
// REST calls that someone is waiting for go on regardless.
import type { DataSource } from 'typeorm';

const BASE_BACKOFF_S = 30;
const MAX_BACKOFF_S = 15 * 60;
/** A host quiet for this long starts again from the base backoff. */
const STRIKES_FORGOTTEN_AFTER = '1 hour';
/** Reconciles read the backoff at most this often per host and process (10,000 repos ≈ 17 checks a second). */
const READ_EVERY_MS = 2_000;

export class BackgroundGate {
  private readonly seen = new Map<string, { untilMs: number; readAt: number }>();

  constructor(private readonly ds: DataSource) {}

  /** Milliseconds background work against `host` should still wait (0 = go now). */
  async waitMs(host: string): Promise<number> {
    const now = Date.now();
    let entry = this.seen.get(host);
    if (!entry || now - entry.readAt > READ_EVERY_MS) {
      const rows: Array<{ until: Date }> = await this.ds.query(`SELECT until FROM background_backoff WHERE host = $1`, [host]);
      entry = { untilMs: rows[0] ? new Date(rows[0].until).getTime() : 0, readAt: now };
      if (this.seen.size > 1000) this.seen.clear();
      this.seen.set(host, entry);
    }
    return Math.max(0, entry.untilMs - now);
  }

  /** `host` answered 429: background work waits 30 s, doubling with each 429 that follows soon after, up to 15 min. */
  async rateLimited(host: string): Promise<void> {
    const rows: Array<{ until: Date }> = await this.ds.query(
      `INSERT INTO background_backoff AS b (host, until, strikes) VALUES ($1, now() + make_interval(secs => $2), 1)
       ON CONFLICT (host) DO UPDATE SET
         strikes = CASE WHEN b.until < now() - interval '${STRIKES_FORGOTTEN_AFTER}' THEN 1 ELSE least(b.strikes + 1, 10) END,
         until = greatest(b.until, now() + make_interval(secs => least($3, $2 * power(2, CASE WHEN b.until < now() - interval '${STRIKES_FORGOTTEN_AFTER}' THEN 0 ELSE least(b.strikes, 9) END))))
       RETURNING until`,
      [host, BASE_BACKOFF_S, MAX_BACKOFF_S],
    );
    this.seen.set(host, { untilMs: new Date(rows[0].until).getTime(), readAt: Date.now() });
  }
}

/** The host a repo's git traffic goes to (the key of its backoff). */
export function gitHostOf(cloneUrl: string): string {
  try {
    return new URL(cloneUrl).host.toLowerCase();
  } catch {
    return 'unknown';
  }
}
