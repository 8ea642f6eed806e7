/**
 * `canary schema`: prints the plan's JSON Schema (draft-07), for editors and SchemaStore. The
 * build writes the same text to dist/plan.schema.json, the file the URL in `canary init`'s
 * modeline points at. Reads nothing and touches no network.
 */
import { ExitCode } from '../errors.js';
import type { Io } from '../io.js';
import { planJsonSchema } from '../plan/json-schema.js';

export async function runSchemaCommand(io: Io): Promise<number> {
  io.stdout.write(`${JSON.stringify(planJsonSchema(), null, 2)}\n`);
  return ExitCode.Ok;
}
