/**
 * One NDJSON record reader for the journal and for `canary report`'s --output-file input: what
 * counts as a record, and what is skipped without losing the lines around it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readJournal, recordLines } from '../../src/journal/reader.js';

const LINES = [
  '{"type":"rollout_started","version":1,"at":1}',
  'a person wrote this line',
  '[{"type":"not-an-object"}]',
  'null',
  '42',
  '{"no_type":true}',
  '{"type":7}',
  '',
  '{"type":"run_started","run":"r1","seq":0}',
  '{"type":"stage_started","run":"r1","seq":1,"stage":0}',
  '{"type":"evaluation","run":"r1","se', // torn by kill -9 mid-write
];

describe('recordLines', () => {
  it('keeps every JSON object with a string type, in order, and skips everything else', () => {
    expect(recordLines(LINES.join('\n')).map((r) => r.type)).toEqual([
      'rollout_started',
      'run_started',
      'stage_started',
    ]);
  });

  it('is what readJournal reads, keeping only records of a run', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'canary-records-'));
    const file = path.join(dir, 'r.journal.ndjson');
    writeFileSync(file, LINES.join('\n'));
    expect(readJournal(file).map((r) => `${r.type}@${r.seq}`)).toEqual(['run_started@0', 'stage_started@1']);
    expect(readJournal(path.join(dir, 'missing.ndjson'))).toEqual([]);
  });
});
