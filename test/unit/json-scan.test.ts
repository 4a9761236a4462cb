// scanJson is held to JSON.parse: the same documents accepted and refused (text, raw bytes with
// invalid UTF-8, mutations of valid documents), and what it builds equal to JSON.parse's value
// cut down to the shape asked for.
import fc from 'fast-check';
import { NOT_JSON, scanJson, type Shape } from '../../src/webhooks/json-scan';
import { readPushDelivery, summarizePush } from '../../src/webhooks/push-payload';

/** JSON.parse's value cut down to `shape` the way scanJson documents it. */
function project(value: unknown, shape: Shape): unknown {
  if (Array.isArray(value)) return shape.items ? value.map((item) => project(item, shape.items!)) : [];
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(shape.keys ?? {})) if (Object.prototype.hasOwnProperty.call(value, key)) out[key] = project((value as Record<string, unknown>)[key], inner);
    return out;
  }
  return value;
}

function oracle(bytes: Buffer, shape: Shape): unknown {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return NOT_JSON;
  }
  return project(value, shape);
}

const keys = ['a', 'b', 'push', 'changes', 'new', 'é', ''];
const shape: fc.Arbitrary<Shape> = fc.letrec<{ shape: Shape }>((tie) => ({
  shape: fc.record(
    { keys: fc.dictionary(fc.constantFrom(...keys), tie('shape'), { maxKeys: 3 }), items: tie('shape') },
    { requiredKeys: [] },
  ),
})).shape;

/** JSON documents whose keys often are the ones the shapes name, with odd whitespace. */
const documents = fc
  .letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.constantFrom(null, true, false, 0, -0, 1.5e300, -12.5e-3),
      fc.string({ unit: 'binary', maxLength: 8 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 3 })), tie('value'), { maxKeys: 4 }),
    ),
  }))
  .value.chain((v) => fc.constantFrom(JSON.stringify(v), JSON.stringify(v, null, 2), ` \n\t${JSON.stringify(v)}\r\n `));

describe('scanJson', () => {
  it('builds what JSON.parse builds, cut down to the shape', () => {
    fc.assert(fc.property(documents, shape, (text, s) => {
      const bytes = Buffer.from(text);
      expect(scanJson(bytes, s)).toEqual(oracle(bytes, s));
    }), { numRuns: 3000 });
  });

  it('refuses exactly what JSON.parse refuses: mutated documents', () => {
    const mutated = fc.tuple(documents, fc.nat(), fc.oneof(fc.constant(''), fc.constantFrom(',', ']', '}', '"', '\\', ':', '0', '-', '.', 'e', 'tru', '\u0001', '\u00e9', '\ufeff', ' ')), fc.nat({ max: 2 })).map(([text, at, insert, cut]) => {
      const i = text.length === 0 ? 0 : at % text.length;
      return text.slice(0, i) + insert + text.slice(i + cut);
    });
    fc.assert(fc.property(mutated, shape, (text, s) => {
      const bytes = Buffer.from(text);
      expect(scanJson(bytes, s) === NOT_JSON).toBe(oracle(bytes, s) === NOT_JSON);
      expect(scanJson(bytes, s)).toEqual(oracle(bytes, s));
    }), { numRuns: 5000 });
  });

  it('refuses exactly what JSON.parse refuses: arbitrary bytes, invalid UTF-8 included', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 24 }).map((a) => Buffer.from(a)),
      fc.tuple(fc.uint8Array({ maxLength: 6 }), fc.uint8Array({ maxLength: 6 })).map(([x, y]) => Buffer.concat([Buffer.from('{"a":"'), Buffer.from(x), Buffer.from('","b":['), Buffer.from(y), Buffer.from(']}')])),
    );
    fc.assert(fc.property(bytes, shape, (b, s) => {
      expect(scanJson(b, s)).toEqual(oracle(b, s));
    }), { numRuns: 5000 });
  });

  it('handles the cases JSON.parse is particular about', () => {
    const all: Shape = { keys: { a: {}, push: { keys: { changes: { items: {} } } } } };
    const cases = [
      '{"a":1,"a":2}', '{"a":{"x":1},"a":[1]}', '{"\\u0061":"k"}', '{"a":"\\ud800"}', '{"a":"é\\n\\"x\\/"}',
      '01', '1.', '.5', '-', '-0', '1e', '1e+', '1E-7', '[1,]', '{"a":1,}', '{,}', '', ' ', '\ufeff{}', 'nul', 'nulll', 'true false',
      '{"push":{"changes":[1,"x",null,{"y":2},[3]]}}', '{"push":{"changes":{}}}', '"a\tb"', '{"a":1}x', '[' .repeat(50_000) + ']'.repeat(50_000),
    ];
    for (const text of cases) expect([text.slice(0, 40), scanJson(Buffer.from(text), all)]).toEqual([text.slice(0, 40), oracle(Buffer.from(text), all)]);
  });
});

/** The receiver's reading before scanJson: the whole body through JSON.parse. */
function readWithJsonParse(raw: Buffer) {
  let payload: any;
  try {
    payload = JSON.parse(raw.toString('utf8'));
  } catch {
    return null;
  }
  if (!payload || typeof payload !== 'object' || !Array.isArray(payload.push?.changes)) return null;
  const { uuid, full_name: fullName } = payload.repository ?? {};
  return { repositoryUuid: typeof uuid === 'string' ? uuid : null, fullName: typeof fullName === 'string' ? fullName.toLowerCase() : null, changes: payload.push.changes as readonly unknown[] };
}

describe('readPushDelivery', () => {
  const anything = fc.oneof(fc.constant(null), fc.string({ maxLength: 4 }), fc.integer(), fc.boolean(), fc.constant([]), fc.constant({}), fc.constant([{ type: 'branch' }]));
  const ref = fc.oneof(
    { weight: 3, arbitrary: fc.record({ type: fc.oneof(fc.constantFrom('branch', 'tag'), anything), name: fc.oneof(fc.constantFrom('main', 'dev', 'Main'), anything), target: fc.oneof(fc.record({ hash: fc.oneof(fc.constant('a'.repeat(40)), fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 7, maxLength: 40 }), anything), message: fc.string() }), anything), links: fc.constant({ html: { href: 'x' } }) }, { requiredKeys: [] }) },
    anything,
  );
  const change = fc.oneof({ weight: 4, arbitrary: fc.record({ new: ref, old: ref, commits: fc.array(fc.record({ hash: fc.string(), message: fc.string() }), { maxLength: 2 }), truncated: fc.boolean() }, { requiredKeys: [] }) }, anything);
  const body = fc.record(
    {
      push: fc.oneof({ weight: 5, arbitrary: fc.record({ changes: fc.oneof({ weight: 5, arbitrary: fc.array(change, { maxLength: 4 }) }, anything) }, { requiredKeys: [] }) }, anything),
      repository: fc.oneof(fc.record({ uuid: fc.oneof(fc.uuid().map((u) => `{${u}}`), anything), full_name: fc.oneof(fc.constantFrom('Acme/API', 'demo/hello-ts'), anything), links: fc.constant({ html: { href: 'x' } }) }, { requiredKeys: [] }), anything),
      actor: fc.constant({ display_name: 'A' }),
    },
    { requiredKeys: [] },
  );
  // Repeated keys (the last counts) and the body as raw text, so a mutation can break it.
  const texts = fc.oneof(
    body.map((b) => JSON.stringify(b)),
    fc.tuple(body, body).map(([a, b]) => `{"push":${JSON.stringify(a.push ?? null)},"repository":${JSON.stringify(a.repository ?? null)},"push":${JSON.stringify(b.push ?? null)}}`),
    fc.tuple(body.map((b) => JSON.stringify(b)), fc.nat(), fc.constantFrom('', ',', '}', '"', '\\')).map(([t, at, x]) => t.slice(0, at % (t.length + 1)) + x + t.slice(at % (t.length + 1))),
  );

  // What the receiver does with a reading: the repo it names and the push's meaning for it.
  const meaning = (read: ReturnType<typeof readWithJsonParse>) =>
    read && { repositoryUuid: read.repositoryUuid, fullName: read.fullName, pushes: ['main', 'dev', null].map((main) => summarizePush(read.changes, main)) };

  it('reads every body as the JSON.parse reader did', () => {
    fc.assert(fc.property(texts, (text) => {
      const raw = Buffer.from(text);
      expect(meaning(readPushDelivery(raw))).toEqual(meaning(readWithJsonParse(raw)));
    }), { numRuns: 4000 });
  });
});
