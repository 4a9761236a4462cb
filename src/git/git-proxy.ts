// Pinning git:// connections to the addresses url-policy checked. http(s) has
// `http.curloptResolve`; the git protocol has no such option, but git hands the connection to
// GIT_PROXY_COMMAND when it is set: it runs `<command> <host> <port>` (argv, no shell) and speaks
// the protocol over the command's stdin and stdout. The command here is a small node script that
// connects only to the pinned addresses, whatever the name resolves to by then (DNS rebinding).
//
// The script is written at run time into a private temporary directory (0700, this user's, one
// per user and script version, so processes share it and nothing piles up) rather than shipped
// next to this module: it then works the same from dist/, under ts-jest and in the image, and
// runs with the very node binary of this process.
import crypto from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Environment the proxy reads: the host git must ask for, and the addresses it may connect to. */
export const PROXY_HOST_VAR = 'LETTUCE_GIT_PROXY_HOST';
export const PROXY_ADDRESSES_VAR = 'LETTUCE_GIT_PROXY_ADDRESSES';

const CONNECT_TIMEOUT_MS = 20_000;

// CommonJS, node built-ins only. Exits 128 with a `fatal:` line (as git's own errors read) when it
// cannot connect; git then fails with "Could not read from remote repository".
const PROXY_SOURCE = `'use strict';
const net = require('node:net');
const [host, portText] = process.argv.slice(2);
const expected = (process.env.${PROXY_HOST_VAR} || '').toLowerCase();
const addresses = (process.env.${PROXY_ADDRESSES_VAR} || '').split(',').filter((a) => net.isIP(a) !== 0);
const port = Number(portText);
const fail = (message) => {
  process.stderr.write('fatal: ' + message + '\\n');
  process.exit(128);
};
const asked = String(host || '').toLowerCase().replace(/^\\[|\\]$/g, '');
if (!asked || asked !== expected) fail('git asked the proxy for ' + JSON.stringify(host) + ', not for the host that was checked');
if (!addresses.length) fail('no checked address to connect to for ' + host);
if (!Number.isInteger(port) || port < 1 || port > 65535) fail('invalid port ' + JSON.stringify(portText));
process.stdout.on('error', () => process.exit(0));
let next = 0;
const attempt = () => {
  const address = addresses[next++];
  const socket = net.connect({ host: address, port });
  let connected = false;
  const timer = setTimeout(() => socket.destroy(new Error('connection timed out')), ${CONNECT_TIMEOUT_MS});
  socket.on('error', (err) => {
    clearTimeout(timer);
    if (connected) process.exit(1);
    if (next < addresses.length) return attempt();
    fail('unable to connect to ' + host + '[' + address + ']:' + port + ': ' + (err.code || err.message));
  });
  socket.once('connect', () => {
    connected = true;
    clearTimeout(timer);
    socket.setNoDelay(true);
    process.stdin.pipe(socket);
    socket.pipe(process.stdout);
    // git closed its end: give the server a moment to close its own, then leave.
    process.stdin.once('end', () => setTimeout(() => process.exit(0), 5000).unref());
    // Leave once everything the server sent is written out to git.
    socket.once('close', () => process.stdout.write('', () => process.exit(0)));
  });
};
attempt();
`;

let installed: string | null = null;

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** `${tmpdir}/lettuce-git-proxy-<uid>-<version>`, if it is this user's private directory; else a fresh one. */
function proxyDir(): string {
  const uid = process.getuid?.() ?? null;
  const version = crypto.createHash('sha256').update(PROXY_SOURCE).update(process.execPath).digest('hex').slice(0, 12);
  const dir = path.join(os.tmpdir(), `lettuce-git-proxy-${uid ?? 'user'}-${version}`);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const st = lstatSync(dir);
  // Someone else's (a predictable name in a shared /tmp): never run what is in there.
  if (!st.isDirectory() || (uid !== null && st.uid !== uid) || (st.mode & 0o077) !== 0) return mkdtempSync(path.join(os.tmpdir(), 'lettuce-git-proxy-'));
  return dir;
}

/** Writes `file` unless it already holds `content` (through a rename, so a concurrent reader never sees half of it). */
function ensureFile(file: string, content: string, mode: number): void {
  try {
    if (readFileSync(file, 'utf8') === content) return;
  } catch {
    /* not there yet */
  }
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, content, { mode });
  renameSync(tmp, file);
}

/** The path of the proxy command (written on first use). */
export function gitProxyCommand(): string {
  if (installed && existsSync(installed)) return installed;
  const dir = proxyDir();
  const script = path.join(dir, 'proxy.cjs');
  const command = path.join(dir, 'git-proxy');
  ensureFile(script, PROXY_SOURCE, 0o600);
  // git execs the command directly: a /bin/sh wrapper gives it this process's node and the script.
  // NODE_OPTIONS could load code (--require) or open an inspector port: not for the proxy.
  ensureFile(command, `#!/bin/sh\nunset NODE_OPTIONS\nexec ${shellQuote(process.execPath)} ${shellQuote(script)} "$@"\n`, 0o700);
  installed = command;
  return command;
}

/** Environment for a git child that talks git:// to `host`: it connects only to `addresses`. */
export function gitProxyEnv(host: string, addresses: readonly string[]): Record<string, string> {
  return {
    GIT_PROXY_COMMAND: gitProxyCommand(),
    [PROXY_HOST_VAR]: host.toLowerCase(),
    [PROXY_ADDRESSES_VAR]: addresses.join(','),
  };
}
