// docker-compose.yml read as Compose reads it (src/stack/compose-file.ts), and what the stack maps
// of it (src/stack/local-mapping.ts): the source of truth for `npm run stack` and the production
// topology's tests, so a change to the file shows here first.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { interpolate, loadComposeFile, startOrder } from '../../src/stack/compose-file';
import { mappedEnvironment, pathsOf, type Mapper } from '../../src/stack/local-mapping';

const root = path.resolve(__dirname, '..', '..');
// A copy, so a developer's own .env beside the real file does not change what these tests read.
const composeFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'compose-')), 'docker-compose.yml');
fs.copyFileSync(path.join(root, 'docker-compose.yml'), composeFile);
const secrets = { CODEWAZE_ADMIN_TOKEN: 'adm', TOKEN_ENCRYPTION_KEY: 'key' };

describe("Compose's variable syntax", () => {
  const env = { SET: 'value', EMPTY: '' };
  it.each([
    ['${SET}', 'value'],
    ['$SET and $$SET', 'value and $SET'],
    ['${UNSET:-fallback}', 'fallback'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${EMPTY-fallback}', ''],
    ['${UNSET-fallback}', 'fallback'],
    ['${UNSET:-${SET}}', 'value'],
    ['postgres://${UNSET:-lettuce}@postgres:5432', 'postgres://lettuce@postgres:5432'],
  ])('%s → %s', (text, expected) => expect(interpolate(text, env)).toBe(expected));

  it('refuses a required variable with its own message, as Compose does', () => {
    expect(() => interpolate('${UNSET:?set UNSET in .env}', env)).toThrow('docker-compose.yml needs UNSET: set UNSET in .env.');
    expect(() => interpolate('${EMPTY:?must not be empty}', env)).toThrow('needs EMPTY');
  });
});

describe('docker-compose.yml', () => {
  it('starts in depends_on order, with the one-shot jobs before what needs them', () => {
    const order = startOrder(loadComposeFile(composeFile, { env: secrets })).map((s) => s.name);
    const before = (a: string, b: string) => expect(order.indexOf(a)).toBeLessThan(order.indexOf(b));
    before('postgres', 'temporal-admin-tools');
    before('temporal-admin-tools', 'temporal');
    before('temporal', 'temporal-setup');
    before('temporal-setup', 'api');
    before('migrate', 'worker');
    expect(order).not.toContain('indexing-worker'); // its profile was not asked for
    expect(startOrder(loadComposeFile(composeFile, { env: secrets, profiles: ['indexing'] })).map((s) => s.name)).toContain('indexing-worker');
  });

  it('merges the app fragments, scales workers, and names the secrets it needs', () => {
    const file = loadComposeFile(composeFile, { env: { ...secrets, WORKER_REPLICAS: '3' } });
    const worker = file.services.get('worker')!;
    expect(worker.replicas).toBe(3);
    expect(worker.command).toEqual(['node', 'dist/src/temporal/worker-main.js']);
    expect(worker.environment).toMatchObject({ WORKER_TASK_QUEUES: 'lettuce-control,lettuce-indexing', MALLOC_ARENA_MAX: '2', CODEWAZE_ADMIN_TOKEN: 'adm', NODE_ENV: 'production' });
    expect(worker.healthcheck).toBeNull();
    expect(worker.stopGraceMs).toBe(45_000);
    expect(loadComposeFile(composeFile, { env: secrets, scale: { worker: 2 } }).services.get('worker')!.replicas).toBe(2);
    expect(() => loadComposeFile(composeFile, { env: {} })).toThrow(/needs CODEWAZE_ADMIN_TOKEN: set CODEWAZE_ADMIN_TOKEN in \.env/);
  });

  it("gives the app the Temporal UI's public address, so links and the codec server's CORS follow it", () => {
    for (const name of ['api', 'worker']) {
      const file = loadComposeFile(composeFile, { env: { ...secrets, TEMPORAL_UI_PUBLIC_URL: 'https://temporal.acme.example' } });
      expect(file.services.get(name)!.environment.TEMPORAL_UI_URL).toBe('https://temporal.acme.example');
      expect(file.services.get('temporal-ui')!.environment.TEMPORAL_CORS_ORIGINS).toBe('https://temporal.acme.example');
    }
    expect(loadComposeFile(composeFile, { env: secrets }).services.get('api')!.environment.TEMPORAL_UI_URL).toBe('http://localhost:8233');
  });

  it('reads .env beside the file, under the environment', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-'));
    fs.copyFileSync(composeFile, path.join(dir, 'docker-compose.yml'));
    fs.writeFileSync(path.join(dir, '.env'), '# a comment\nCODEWAZE_ADMIN_TOKEN=from-dotenv\nTOKEN_ENCRYPTION_KEY="quoted"\nLOG_LEVEL=debug # trailing\n');
    const env = loadComposeFile(path.join(dir, 'docker-compose.yml'), { env: { LOG_LEVEL: 'warn' } }).services.get('api')!.environment;
    expect([env.CODEWAZE_ADMIN_TOKEN, env.TOKEN_ENCRYPTION_KEY, env.LOG_LEVEL]).toEqual(['from-dotenv', 'quoted', 'warn']);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('what the stack maps, and only that', () => {
  const file = loadComposeFile(composeFile, { env: secrets });
  const build = { version: '1.30.1', server: '/x/server', sqlTool: '/x/sql', postgresSchemaDir: '/mod/schema/postgresql/v12' };
  const mapperFor = (name: string): Mapper => ({ paths: pathsOf(file.services.get(name)!, { projectDir: root, stackDir: '/stack', appDir: '/stack/image', build }), say: () => {}, said: new Set() });

  it('host names become loopback; every other value stays as written', () => {
    const api = file.services.get('api')!;
    const env = mappedEnvironment(mapperFor('api'), api);
    expect(env.DATABASE_URL).toBe('postgres://lettuce:lettuce@127.0.0.1:5432/lettuce');
    expect(env.TEMPORAL_ADDRESS).toBe('127.0.0.1:7233');
    expect(env.DATA_DIR).toBe('/stack/volumes/lettuce-data');
    const changed = Object.keys(env).filter((k) => env[k] !== api.environment[k]);
    expect(changed.sort()).toEqual(['DATABASE_URL', 'DATA_DIR', 'TEMPORAL_ADDRESS']);
    const temporal = mappedEnvironment(mapperFor('temporal'), file.services.get('temporal')!);
    expect([temporal.POSTGRES_SEEDS, temporal.POSTGRES_USER, temporal.DB, temporal.DYNAMIC_CONFIG_FILE_PATH]).toEqual([
      '127.0.0.1',
      'lettuce',
      'postgres12',
      path.join(root, 'deploy/temporal/dynamicconfig/lettuce.yaml'),
    ]);
  });

  it("maps the images' own files: the app's image folder, the admin tools' schema", () => {
    expect(mapperFor('api').paths).toEqual(expect.arrayContaining([['/app', '/stack/image']]));
    expect(mapperFor('temporal-admin-tools').paths).toEqual(expect.arrayContaining([['/deploy', path.join(root, 'deploy/temporal')], ['/etc/temporal/schema', '/mod/schema']]));
  });
});
