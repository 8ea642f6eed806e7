/**
 * Where the plan's JSON Schema of this version is published (the package ships it as
 * dist/plan.schema.json; a public npm CDN serves every published version's files), and the
 * modeline `canary init` writes so yaml-language-server finds it. Apart from
 * src/plan/json-schema.ts so that `canary init` does not load the schema builder.
 */
import { VERSION } from '../version.js';

export const PLAN_SCHEMA_URL = `https://cdn.jsdelivr.net/npm/relay-canary@${VERSION}/dist/plan.schema.json`;

export const SCHEMA_MODELINE = `# yaml-language-server: $schema=${PLAN_SCHEMA_URL}`;
