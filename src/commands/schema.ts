/**
 * `canary schema [plan|records]`: prints a JSON Schema (draft-07). `plan` (the default): the
 * plan file's, for editors and SchemaStore; the build writes the same text to
 * dist/plan.schema.json, the file the URL in `canary init`'s modeline points at. `records`:
 * every JSON record canary writes (docs/events.md), one schema per record type in one
 * document. Reads nothing and touches no network.
 */
import { ExitCode } from '../errors.js';
import type { Io } from '../io.js';

export async function runSchemaCommand(io: Io, which: 'plan' | 'records' = 'plan'): Promise<number> {
  const schema =
    which === 'records'
      ? (await import('../output/record-schemas.js')).recordsDocument()
      : (await import('../plan/json-schema.js')).planJsonSchema();
  io.stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
  return ExitCode.Ok;
}
