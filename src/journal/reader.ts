/**
 * Reading journals back: NDJSON text to records (skipping torn or foreign lines), one journal
 * file to its records, and a whole state folder to its routes and runs. Separate from the
 * writer (journal.ts) because the commands that read (`history`, `status`, `report`, resume)
 * never write, and a reader must survive what a killed writer left behind.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fromRecord } from '../output/record.js';
import { JOURNAL_SUFFIX } from './paths.js';
import type { JournalRecord } from './records.js';
import { type RunSummary, summarizeRuns } from './run-summary.js';

/**
 * Every line of NDJSON text that is a JSON object with a string `type`: the journal's records
 * and `--output-file`'s events alike. A torn or foreign line (kill -9 mid-write, a person's
 * line in a log) is skipped rather than losing the rest.
 */
export function recordLines(text: string): Array<Record<string, unknown> & { type: string }> {
  const records: Array<Record<string, unknown> & { type: string }> = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const parsed = JSON.parse(line) as { type?: unknown } | null;
      if (parsed && typeof parsed === 'object' && typeof parsed.type === 'string') {
        records.push(parsed as Record<string, unknown> & { type: string });
      }
    } catch {
      // Not a record: see above.
    }
  }
  return records;
}

/** Every well-formed record of a journal file; a torn last line (kill -9 mid-write) is skipped. */
export function readJournal(file: string): JournalRecord[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  // Version 4 records in snake_case, versions 1–3 (camelCase, `v`) as they were written.
  return recordLines(text)
    .filter((r) => typeof r.run === 'string')
    .map((r) => fromRecord<JournalRecord>(r));
}

/** Every journal in a state dir, with its runs (oldest first). */
export function readStateDir(stateDir: string): { file: string; route: string; runs: RunSummary[] }[] {
  if (!existsSync(stateDir)) return [];
  const out: { file: string; route: string; runs: RunSummary[] }[] = [];
  for (const name of readdirSync(stateDir).sort()) {
    if (!name.endsWith(JOURNAL_SUFFIX)) continue;
    const file = path.join(stateDir, name);
    const runs = summarizeRuns(readJournal(file));
    const route = runs[runs.length - 1]?.route ?? name.slice(0, -JOURNAL_SUFFIX.length);
    out.push({ file, route, runs });
  }
  return out;
}
