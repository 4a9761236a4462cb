// Token contention benchmark (`npm run bench:tokens`): 100 concurrent needs for a Bitbucket access
// token on an installation whose stored token has expired, spread over 4 token services with a
// database pool each (as 4 worker/API processes would be: single-flight in each, the row lock
// between them). Counts the refresh calls Bitbucket (the fake) received — the target is exactly 1
// per round — and the time until all 100 callers hold a working token. The baseline, in the same
// run: the same 100 needs on a token that is still valid (no refresh). Its own PostgreSQL; no
// Temporal (a token refresh does not go through it). Figures only.
import { BitbucketIntegration } from '../src/bitbucket/integration';
import { saveInstallation } from '../src/bitbucket/installations';
import { openDatabase } from '../src/db/data-source';
import { SecretBox } from '../src/security/secret-box';
import { startFakeBitbucket } from '../test/fakes/bitbucket/server';
import { serviceEnvFor } from '../test/fakes/bitbucket/service-env';
import { benchConfig, fmtMs, median, printReport, say, startBenchServers, type Row, runBench } from './support';

const NEEDS = Number(process.env.BENCH_NEEDS ?? 100);
const PROCESSES = Number(process.env.BENCH_PROCESSES ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

async function main(): Promise<void> {
  say(`Token contention bench: ${NEEDS} concurrent token needs over ${PROCESSES} token services, ${ROUNDS} rounds.`);
  const servers = await startBenchServers('tokens', { temporal: false });
  const fake = await startFakeBitbucket({ authorizeMode: 'auto-approve' });
  const closers: Array<() => Promise<void>> = [servers.stop, () => fake.close()];
  try {
    fake.addUser({ nickname: 'demo', display_name: 'Demo User' });
    fake.setCurrentUser('demo');
    fake.addWorkspace({ slug: 'demo', members: [{ nickname: 'demo', administrator: true }] });
    const config = benchConfig(servers, serviceEnvFor(fake));
    const box = new SecretBox(config.tokenEncryptionKey);
    const setup = await openDatabase(config.databaseUrl);
    closers.unshift(() => setup.destroy());
    const [{ id: accountId }] = await setup.query(`INSERT INTO accounts (name, webhook_secret) VALUES ('bench', $1) RETURNING id`, [box.seal('x')]);
    const issued = fake.issueTokens('demo');
    const installationId = await saveInstallation(setup, box, accountId, { accessToken: issued.access_token, refreshToken: issued.refresh_token!, expiresAt: new Date(Date.now() + 3_600_000), scopes: issued.scope ?? null }, new Date());

    // PROCESSES token services, each with its own pool (what separate processes would have).
    const services: BitbucketIntegration[] = [];
    for (let p = 0; p < PROCESSES; p++) {
      const ds = await openDatabase(config.databaseUrl);
      closers.unshift(() => ds.destroy());
      services.push(new BitbucketIntegration(config, ds, box));
    }

    const round = async (expired: boolean) => {
      if (expired) {
        fake.expireAccessTokens('demo');
        await setup.query(`UPDATE provider_installations SET expires_at = now() - interval '1 minute' WHERE id = $1`, [installationId]);
      }
      const before = fake.stats();
      const started = performance.now();
      const served: number[] = [];
      const tokens = await Promise.all(
        Array.from({ length: NEEDS }, async (_, i) => {
          const token = await services[i % PROCESSES].tokens.getAccessToken(installationId);
          served.push(performance.now() - started);
          return token;
        }),
      );
      const allServed = performance.now() - started;
      const distinct = new Set(tokens);
      // The token they all got works.
      const works = (await fetch(`${fake.apiUrl}/user`, { headers: { authorization: `Bearer ${tokens[0]}` } })).status === 200;
      const after = fake.stats();
      return { allServed, p50: median(served), refreshes: after.refreshes - before.refreshes, failures: after.refreshFailures - before.refreshFailures, distinct: distinct.size, works };
    };

    await round(false); // warm the pools
    const contended = [];
    const baseline = [];
    for (let r = 0; r < ROUNDS; r++) {
      contended.push(await round(true));
      baseline.push(await round(false));
    }
    const refreshCounts = contended.map((c) => c.refreshes);
    const allOne = refreshCounts.every((n) => n === 1);
    const tContended = median(contended.map((c) => c.allServed));
    const tBaseline = median(baseline.map((c) => c.allServed));
    const rows: Row[] = [
      { figure: `refresh calls per ${NEEDS} concurrent needs on an expired token`, value: refreshCounts.join(', '), target: 'exactly 1', baseline: `${baseline.map((b) => b.refreshes).join(', ')} (valid token)`, met: allOne },
      { figure: 'time until all served (median of rounds)', value: fmtMs(tContended), baseline: `${fmtMs(tBaseline)} (valid token)`, ratio: (tBaseline / tContended).toFixed(2) },
      { figure: 'per-need latency p50 (median of rounds)', value: fmtMs(median(contended.map((c) => c.p50))), baseline: fmtMs(median(baseline.map((c) => c.p50))) },
      { figure: 'distinct tokens handed out per round; token works', value: `${[...new Set(contended.map((c) => c.distinct))].join(', ')}; ${contended.every((c) => c.works) ? 'yes' : 'NO'}`, met: contended.every((c) => c.distinct === 1 && c.works) },
      { figure: 'rejected refreshes', value: String(contended.reduce((n, c) => n + c.failures, 0)), target: '0', met: contended.every((c) => c.failures === 0) },
    ];
    printReport('Token contention', rows, [`${NEEDS} needs over ${PROCESSES} token services (own pools), ${ROUNDS} rounds; baseline = the same needs on a valid token.`]);
  } finally {
    for (const close of closers) await close().catch(() => undefined);
  }
}

runBench(main);
