// Drives the Connect Bitbucket flow the way a browser does: install → Bitbucket's authorize page
// (the fake, approving or denying) → the service's callback → the redirect the UI receives.
import crypto from 'node:crypto';
import { startFakeBitbucket, type FakeBitbucket } from '../fakes/bitbucket/server';
import { seedDemo } from '../fakes/bitbucket/seed';
import { serviceEnvFor } from '../fakes/bitbucket/service-env';
import { freePort } from '../../src/dev/processes';
import type { Logger } from '../../src/logger';
import { startTestService, type TestService } from './service';

/**
 * An OAuth consumer of its own for a fake: the REST budget is counted per consumer in the one test
 * database (CONTRACT §13), and test files run side by side must not spend each other's.
 */
export function ownClientId(): string {
  return `fake-client-${crypto.randomBytes(6).toString('hex')}`;
}

/**
 * The fake Bitbucket (seeded with the demo data) and the service wired to it. With `reachable`,
 * CODEWAZE_PUBLIC_URL is the service's real address, so webhook deliveries from the fake arrive.
 */
export async function startFakeAndService(opts: { accessTokenTtlSeconds?: number; env?: Record<string, string>; clock?: () => Date; reachable?: boolean; workers?: boolean; log?: Logger } = {}) {
  const fake = await startFakeBitbucket({ authorizeMode: 'auto-approve', accessTokenTtlSeconds: opts.accessTokenTtlSeconds, clientId: ownClientId() });
  await seedDemo(fake);
  const port = opts.reachable ? await freePort() : 0;
  const svc = await startTestService({
    env: {
      ...(opts.reachable ? serviceEnvFor(fake, port) : { ...serviceEnvFor(fake), CODEWAZE_PUBLIC_URL: 'http://lettuce.test', PORT: '0' }),
      ...opts.env,
    },
    clock: opts.clock,
    workers: opts.workers,
    log: opts.log,
  });
  fake.setCallbackUrl(`${svc.url}/v1/integrations/bitbucket/callback`);
  return { fake, svc, stop: async () => (await svc.stop(), await fake.close()) };
}

/** The full browser round trip; returns where the callback redirected and the callback URL used. */
export async function connect(svc: TestService, token: string): Promise<{ location: string; callbackUrl: string }> {
  const install = await svc.request('POST', '/v1/integrations/bitbucket/install', { token });
  if (install.status !== 200) throw new Error(`install failed: ${install.status} ${JSON.stringify(install.body)}`);
  const authorize = await fetch(install.body.authorizeUrl, { redirect: 'manual' });
  const callbackUrl = authorize.headers.get('location');
  if (authorize.status !== 302 || !callbackUrl) throw new Error(`authorize did not redirect: ${authorize.status}`);
  return { location: await followCallback(callbackUrl), callbackUrl };
}

export async function followCallback(callbackUrl: string): Promise<string> {
  const res = await fetch(callbackUrl, { redirect: 'manual' });
  if (res.status !== 302) throw new Error(`callback answered ${res.status}: ${await res.text()}`);
  return res.headers.get('location') ?? '';
}

export type { FakeBitbucket };
