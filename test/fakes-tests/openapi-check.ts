// A small OpenAPI 3 schema checker, enough for Bitbucket's spec: $ref, allOf/oneOf/anyOf,
// type, nullable, enum, required, properties, additionalProperties, items, minItems,
// uniqueItems, minimum/maximum, min/maxLength, pattern and the date-time/uri formats.
// Discriminators are not followed (the base schemas are checked as written).

export type Schema = { [key: string]: unknown };

export interface OpenApiDoc {
  components: { schemas: Record<string, Schema> };
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

export class SchemaChecker {
  constructor(private readonly doc: OpenApiDoc) {}

  schema(name: string): Schema {
    const s = this.doc.components.schemas[name];
    if (!s) throw new Error(`no schema ${name} in the spec`);
    return s;
  }

  /** Returns a list of problems ("path: message"); empty = valid. */
  check(name: string, value: unknown): string[] {
    const errors: string[] = [];
    this.walk(this.schema(name), value, name, errors);
    return errors;
  }

  private resolve(ref: string): Schema {
    const m = /^#\/components\/schemas\/(.+)$/.exec(ref);
    if (!m) throw new Error(`unsupported $ref ${ref}`);
    return this.schema(m[1]);
  }

  private walk(schema: Schema, value: unknown, at: string, errors: string[]): void {
    if (typeof schema.$ref === 'string') {
      this.walk(this.resolve(schema.$ref), value, at, errors);
      return;
    }
    const enumValues = Array.isArray(schema.enum) ? (schema.enum as unknown[]) : undefined;
    if (value === null) {
      if (schema.nullable === true || enumValues?.includes(null)) return;
      errors.push(`${at}: is null but the schema is not nullable`);
      return;
    }
    if (Array.isArray(schema.allOf)) {
      for (const sub of schema.allOf as Schema[]) this.walk(sub, value, at, errors);
    }
    for (const key of ['oneOf', 'anyOf'] as const) {
      if (Array.isArray(schema[key])) {
        const passing = (schema[key] as Schema[]).filter((sub) => {
          const e: string[] = [];
          this.walk(sub, value, at, e);
          return e.length === 0;
        }).length;
        if (key === 'oneOf' ? passing !== 1 : passing === 0) errors.push(`${at}: matches ${passing} of the ${key} schemas`);
      }
    }
    const type = schema.type;
    if (typeof type === 'string') {
      const actual = typeOf(value);
      const ok = actual === type || (type === 'number' && actual === 'integer');
      if (!ok) {
        errors.push(`${at}: expected ${type}, got ${actual}`);
        return;
      }
    }
    if (enumValues && !enumValues.includes(value)) errors.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(enumValues)}`);

    if (typeof value === 'string') this.checkString(schema, value, at, errors);
    if (typeof value === 'number') {
      if (typeof schema.minimum === 'number' && value < schema.minimum) errors.push(`${at}: ${value} < minimum ${schema.minimum}`);
      if (typeof schema.maximum === 'number' && value > schema.maximum) errors.push(`${at}: ${value} > maximum ${schema.maximum}`);
    }
    if (Array.isArray(value)) {
      if (typeof schema.minItems === 'number' && value.length < schema.minItems) errors.push(`${at}: fewer than ${schema.minItems} items`);
      if (schema.uniqueItems === true && new Set(value.map((v) => JSON.stringify(v))).size !== value.length) errors.push(`${at}: items are not unique`);
      if (schema.items && typeof schema.items === 'object') {
        value.forEach((v, i) => this.walk(schema.items as Schema, v, `${at}[${i}]`, errors));
      }
    }
    if (typeOf(value) === 'object') this.checkObject(schema, value as Record<string, unknown>, at, errors);
  }

  private checkString(schema: Schema, value: string, at: string, errors: string[]): void {
    if (typeof schema.minLength === 'number' && value.length < schema.minLength) errors.push(`${at}: shorter than ${schema.minLength}`);
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) errors.push(`${at}: longer than ${schema.maxLength}`);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern).test(value)) errors.push(`${at}: does not match ${schema.pattern}`);
    if (schema.format === 'date-time' && !DATE_TIME.test(value)) errors.push(`${at}: ${value} is not an ISO-8601 date-time`);
    if (schema.format === 'uri') {
      try {
        new URL(value);
      } catch {
        errors.push(`${at}: ${value} is not an absolute URI`);
      }
    }
  }

  private checkObject(schema: Schema, value: Record<string, unknown>, at: string, errors: string[]): void {
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    if (Array.isArray(schema.required)) {
      for (const r of schema.required as string[]) if (!(r in value)) errors.push(`${at}: missing required "${r}"`);
    }
    for (const [k, v] of Object.entries(value)) {
      if (props[k]) this.walk(props[k], v, `${at}.${k}`, errors);
      else if (schema.additionalProperties === false) errors.push(`${at}: unexpected property "${k}"`);
      else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
        this.walk(schema.additionalProperties as Schema, v, `${at}.${k}`, errors);
      }
    }
  }
}
