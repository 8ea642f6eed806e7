/** Holds records to their JSON Schemas (src/output/record-schemas.ts) with ajv, for any test. */
import { Ajv, type ValidateFunction } from 'ajv';
import { journalSchema, recordSchemas } from '../../src/output/record-schemas.js';

const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
const schemas = recordSchemas();
const compiled = new Map<string, ValidateFunction>();

function validator(type: string, journal: boolean): ValidateFunction | undefined {
  const key = `${journal ? 'journal' : 'record'}:${type}`;
  const known = compiled.get(key);
  if (known) return known;
  const schema = journal ? journalSchema(type) : schemas[type];
  if (!schema) return undefined;
  const validate = ajv.compile(schema);
  compiled.set(key, validate);
  return validate;
}

/** Why a record does not match its type's schema (as journaled, with `journal`); [] when it does. */
export function schemaErrors(record: Record<string, unknown>, journal = false): unknown[] {
  const validate = validator(String(record.type), journal);
  if (!validate) return [`no schema for a record of type ${String(record.type)}`];
  return validate(record) ? [] : [...(validate.errors ?? [])];
}

/** Every line of NDJSON text as a record. */
export function parseRecords(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
