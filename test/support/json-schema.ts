// A small JSON Schema (2020-12 subset) validator, enough for the OpenAPI document of this
// service: $ref (local), type (with arrays), properties, required, additionalProperties, items,
// enum, const, allOf, anyOf, oneOf, pattern, minLength/maxLength, minimum/maximum, date-time
// and uri formats. It returns every problem with its JSON path, so a failing test says where.

type Schema = Record<string, any>;

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

export function validate(schema: Schema, value: unknown, root: Schema, path = '$'): string[] {
  if (schema.$ref) {
    const target = (schema.$ref as string)
      .replace(/^#\//, '')
      .split('/')
      .reduce((node: any, key) => node?.[key], root);
    if (!target) return [`${path}: unresolved $ref ${schema.$ref}`];
    return validate(target, value, root, path);
  }
  const problems: string[] = [];
  const t = typeOf(value);
  if (schema.type) {
    const types: string[] = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((x) => x === t || (x === 'number' && t === 'integer'))) return [`${path}: expected ${types.join('|')}, got ${t}`];
  }
  if ('const' in schema && JSON.stringify(schema.const) !== JSON.stringify(value)) problems.push(`${path}: expected ${JSON.stringify(schema.const)}`);
  if (schema.enum && !schema.enum.some((e: unknown) => JSON.stringify(e) === JSON.stringify(value))) problems.push(`${path}: ${JSON.stringify(value)} not in ${JSON.stringify(schema.enum)}`);
  if (t === 'string') {
    const s = value as string;
    if (schema.pattern && !new RegExp(schema.pattern).test(s)) problems.push(`${path}: does not match ${schema.pattern}`);
    if (schema.minLength !== undefined && s.length < schema.minLength) problems.push(`${path}: shorter than ${schema.minLength}`);
    if (schema.maxLength !== undefined && s.length > schema.maxLength) problems.push(`${path}: longer than ${schema.maxLength}`);
    if (schema.format === 'date-time' && !ISO_TIME.test(s)) problems.push(`${path}: not a date-time`);
    if (schema.format === 'uri' && !/^[a-z][a-z0-9+.-]*:/i.test(s)) problems.push(`${path}: not a URI`);
  }
  if ((t === 'integer' || t === 'number') && schema.minimum !== undefined && (value as number) < schema.minimum) problems.push(`${path}: below ${schema.minimum}`);
  if ((t === 'integer' || t === 'number') && schema.maximum !== undefined && (value as number) > schema.maximum) problems.push(`${path}: above ${schema.maximum}`);
  if (t === 'object') {
    const o = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (!(key in o)) problems.push(`${path}: missing ${key}`);
    for (const [key, v] of Object.entries(o)) {
      if (schema.properties?.[key]) problems.push(...validate(schema.properties[key], v, root, `${path}.${key}`));
      else if (schema.additionalProperties === false) problems.push(`${path}: unexpected property ${key}`);
      else if (typeof schema.additionalProperties === 'object') problems.push(...validate(schema.additionalProperties, v, root, `${path}.${key}`));
    }
  }
  if (t === 'array' && schema.items) (value as unknown[]).forEach((item, i) => problems.push(...validate(schema.items, item, root, `${path}[${i}]`)));
  for (const sub of schema.allOf ?? []) problems.push(...validate(sub, value, root, path));
  if (schema.anyOf && !schema.anyOf.some((sub: Schema) => validate(sub, value, root, path).length === 0)) {
    problems.push(`${path}: matches none of anyOf (${schema.anyOf.map((sub: Schema) => validate(sub, value, root, path)[0]).join('; ')})`);
  }
  if (schema.oneOf) {
    const matching = schema.oneOf.filter((sub: Schema) => validate(sub, value, root, path).length === 0).length;
    if (matching !== 1) problems.push(`${path}: matches ${matching} of oneOf, not exactly 1`);
  }
  return problems;
}
