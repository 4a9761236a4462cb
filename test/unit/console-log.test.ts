// The dev stack's console: on a terminal one readable line per event, redacted exactly like the
// JSON lines (the formatter only reads pino's redacted output); elsewhere the JSON itself.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { consoleDestination, createLogger } from '../../src/logger';

function terminal(isTTY: boolean) {
  const stream = Object.assign(new PassThrough(), { isTTY, fd: -1 }) as unknown as NodeJS.WriteStream & { fd: number };
  const chunks: string[] = [];
  (stream as unknown as PassThrough).on('data', (c: Buffer) => chunks.push(c.toString()));
  return { stream, text: () => chunks.join('').replace(/\x1b\[[0-9;]*m/g, '') };
}

it('on a terminal: one line per event, access lines as a sentence, secrets redacted', async () => {
  const tty = terminal(true);
  const log = createLogger('info', consoleDestination(tty.stream));
  log.child({ requestId: 'r-1' }).info({ method: 'GET', url: '/v1/integrations/bitbucket/callback?code=[redacted]', status: 302, ms: 4 }, 'request');
  log.warn({ repoId: 'repo-1', authorization: 'Bearer sekrit-token', nested: { refreshToken: 'sekrit-refresh' } }, 'could not signal a repo workflow');
  await new Promise((r) => setImmediate(r));
  const lines = tty.text().trimEnd().split('\n');
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: GET \/v1\/integrations\/bitbucket\/callback\?code=\[redacted\] → 302 in 4 ms$/);
  expect(lines[1]).toMatch(/^\[\d\d:\d\d:\d\d\] WARN: could not signal a repo workflow \{.*"repoId":"repo-1".*\}$/);
  expect(tty.text()).not.toContain('sekrit');
  expect(tty.text()).toContain('"authorization":"[redacted]"');
});

it('elsewhere: the JSON lines of production, written at once', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lettuce-console-')), 'out');
  const fd = fs.openSync(file, 'w');
  try {
    const log = createLogger('info', consoleDestination({ isTTY: false, fd } as NodeJS.WriteStream & { fd: number }));
    log.info({ method: 'GET', url: '/v1/me', status: 200, ms: 3, token: 'sekrit' }, 'request');
    // Synchronous: already in the file, in order with anything written after it.
    const [line, ...rest] = fs.readFileSync(file, 'utf8').split('\n');
    expect(rest).toEqual(['']);
    expect(JSON.parse(line)).toMatchObject({ level: 30, service: 'lettuce', msg: 'request', method: 'GET', url: '/v1/me', status: 200, token: '[redacted]' });
  } finally {
    fs.closeSync(fd);
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
});
