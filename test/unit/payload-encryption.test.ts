// The payload codec (AES-256-GCM, key ids for rotation) and TEMPORAL_PAYLOAD_KEY parsing.
import crypto from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { ConfigError, loadConfig } from '../../src/config';
import { EncryptionCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA } from '../../src/temporal/encryption-codec';
import { temporalDataConverter } from '../../src/temporal/data-converter';

const base = {
  CODEWAZE_ADMIN_TOKEN: 'a-long-enough-admin-token',
  TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
  DATABASE_URL: 'postgres://u:p@localhost:5432/db',
  TEMPORAL_ADDRESS: 'localhost:7233',
};
const key = (fill: number) => Buffer.alloc(32, fill).toString('base64');
const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? new Uint8Array()).toString('utf8');

describe('TEMPORAL_PAYLOAD_KEY', () => {
  it('is off by default', () => {
    const config = loadConfig(base);
    expect(config.payloadKeys).toBeNull();
    expect(temporalDataConverter(config)).toBeUndefined();
    expect(config.codecAuth).toBe('admin-token');
    expect(config.workerMetricsAddress).toBeNull();
  });

  it('takes one bare key, with an id derived from it', () => {
    const [k] = loadConfig({ ...base, TEMPORAL_PAYLOAD_KEY: key(3) }).payloadKeys!;
    expect(k.key).toEqual(Buffer.alloc(32, 3));
    expect(k.id).toMatch(/^k[0-9a-f]{16}$/);
    expect(loadConfig({ ...base, TEMPORAL_PAYLOAD_KEY: key(3) }).payloadKeys![0].id).toBe(k.id); // stable
  });

  it('takes a rotation list: the first encrypts', () => {
    const keys = loadConfig({ ...base, TEMPORAL_PAYLOAD_KEY: `2026-02:${key(2)}, 2025-11:${key(1)},${key(9)}` }).payloadKeys!;
    expect(keys.map((k) => k.id)).toEqual(['2026-02', '2025-11', expect.stringMatching(/^k/)]);
  });

  it.each([
    ['short', Buffer.alloc(16).toString('base64')],
    ['not base64', 'not a key!'],
    ['duplicate ids', `a:${key(1)},a:${key(2)}`],
    ['empty entry', `${key(1)},`],
  ])('refuses %s, naming the variable without echoing it', (_name, value) => {
    expect(() => loadConfig({ ...base, TEMPORAL_PAYLOAD_KEY: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, TEMPORAL_PAYLOAD_KEY: value })).toThrow(/^Invalid configuration: TEMPORAL_PAYLOAD_KEY must be a 32-byte base64 key/);
    try {
      loadConfig({ ...base, TEMPORAL_PAYLOAD_KEY: value });
    } catch (err) {
      expect((err as Error).message).not.toContain(value);
    }
  });

  it('validates CODEC_SERVER_AUTH and WORKER_METRICS_ADDRESS', () => {
    expect(loadConfig({ ...base, CODEC_SERVER_AUTH: 'none', WORKER_METRICS_ADDRESS: '0.0.0.0:9464' })).toMatchObject({ codecAuth: 'none', workerMetricsAddress: '0.0.0.0:9464' });
    expect(() => loadConfig({ ...base, CODEC_SERVER_AUTH: 'open' })).toThrow(/^Invalid configuration: CODEC_SERVER_AUTH /);
    expect(() => loadConfig({ ...base, WORKER_METRICS_ADDRESS: '9464' })).toThrow(/^Invalid configuration: WORKER_METRICS_ADDRESS /);
  });
});

describe('EncryptionCodec', () => {
  const secretValue = { repoId: 'r-1', note: 'plain-text-marker-42' };
  const plain = defaultPayloadConverter.toPayload(secretValue)!;
  const codec = new EncryptionCodec([{ id: 'new', key: crypto.randomBytes(32) }]);

  it('seals payloads under the current key id and opens them again', async () => {
    const [sealed] = await codec.encode([plain]);
    expect(text(sealed.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(sealed.metadata![KEY_ID_METADATA])).toBe('new');
    expect(Object.keys(sealed.metadata!)).toEqual(['encoding', KEY_ID_METADATA]); // the inner encoding is sealed too
    expect(text(sealed.data)).not.toContain('plain-text-marker-42');
    const [opened] = await codec.decode([sealed]);
    expect(defaultPayloadConverter.fromPayload(opened)).toEqual(secretValue);
    // a fresh IV every time
    const [again] = await codec.encode([plain]);
    expect(Buffer.from(again.data!).equals(Buffer.from(sealed.data!))).toBe(false);
  });

  it('decodes payloads of an older key after a rotation, and plain payloads as they are', async () => {
    const old = { id: 'old', key: crypto.randomBytes(32) };
    const [sealedByOld] = await new EncryptionCodec([old]).encode([plain]);
    const rotated = new EncryptionCodec([{ id: 'newer', key: crypto.randomBytes(32) }, old]);
    const [opened, untouched] = await rotated.decode([sealedByOld, plain]);
    expect(defaultPayloadConverter.fromPayload(opened)).toEqual(secretValue);
    expect(untouched).toBe(plain);
    const [sealedByNew] = await rotated.encode([plain]);
    expect(text(sealedByNew.metadata![KEY_ID_METADATA])).toBe('newer');
  });

  it('refuses an unknown key id and a tampered payload', async () => {
    const [sealed] = await codec.encode([plain]);
    await expect(new EncryptionCodec([{ id: 'other', key: crypto.randomBytes(32) }]).decode([sealed])).rejects.toThrow(/unknown key id "new"/);
    const tampered = Buffer.from(sealed.data!);
    tampered[20] ^= 1;
    await expect(codec.decode([{ ...sealed, data: tampered }])).rejects.toThrow(/failed authentication/);
  });
});
