/**
 * One reader, two trees: the same checks over a YAML file's nodes (problems at line:column) and
 * over parsed JSON (problems named by key path) say the same words.
 */
import { describe, expect, it } from 'vitest';
import { PlanReader, rootEntry } from '../../src/plan/reader.js';
import { SourceFile } from '../../src/plan/yaml-source.js';
import { readJson } from '../../src/shape/json-tree.js';
import type { Entry, ShapeReader } from '../../src/shape/reader.js';

interface Rule {
  tag: string;
  weight: number;
}

/** A small reader written once, with no parser's types in it. */
function readRules<N>(r: ShapeReader<N>, root: Entry<N>): Rule[] | undefined {
  const top = r.mapping(root, ['rules']);
  const list = r.required(top, 'rules');
  const items = list && r.items(list);
  if (list && items === undefined) return r.fail(list, 'a list of rules');
  const rules = (items ?? []).map((item) => {
    const fields = r.mapping(item, ['tag', 'weight']);
    const tag = r.string(r.required(fields, 'tag'));
    const weight = r.number(r.required(fields, 'weight'), 'a percentage', (n) => n >= 0 && n <= 100);
    return tag === undefined || weight === undefined ? undefined : { tag, weight };
  });
  return rules.every((rule) => rule !== undefined) ? rules : undefined;
}

function fromYaml(text: string): string[] {
  const src = new SourceFile('rules.yaml', text, 'rules file');
  expect(src.parse()).toBe(true);
  readRules(new PlanReader(src), rootEntry(src));
  return src.problems.map((p) => `${p.line}:${p.column} ${p.path} | ${p.message}`);
}

function fromJson(value: unknown): string[] {
  const read = readJson('rules', value, readRules);
  return read.ok ? [] : read.problems.map((p) => `${p.path} | ${p.message}`);
}

describe('the shape reader over YAML and over JSON', () => {
  it('says the same words, at a line:column in YAML and by path in JSON', () => {
    const yaml = ['rules:', '  - tag: a', '    weight: 120', '  - tag: b', '    wieght: 5', ''].join('\n');
    const json = {
      rules: [
        { tag: 'a', weight: 120 },
        { tag: 'b', wieght: 5 },
      ],
    };
    expect(fromYaml(yaml)).toEqual([
      '3:13 rules[0].weight | rules[0].weight: expected a percentage, got 120',
      "5:5 rules[1].wieght | unknown key 'wieght' in rules[1]; did you mean 'weight'?",
      "4:5 rules[1].weight | missing required key 'weight' in rules[1]",
    ]);
    expect(fromJson(json)).toEqual([
      'rules[0].weight | rules[0].weight: expected a percentage, got 120',
      "rules[1].wieght | unknown key 'wieght' in rules[1]; did you mean 'weight'?",
      "rules[1].weight | missing required key 'weight' in rules[1]",
    ]);
  });

  it('treats an empty YAML value and a JSON null alike', () => {
    expect(fromYaml('rules:\n')).toEqual(['1:1 rules | rules: needs a value']);
    expect(fromJson({ rules: null })).toEqual(['rules | rules: needs a value']);
    expect(fromJson({ rules: 'all' })).toEqual(["rules | rules: expected a list of rules, got 'all'"]);
    expect(fromJson([])).toEqual([' | expected a mapping, got a list']);
  });

  it('reads good input to the same value from both', () => {
    const good = { rules: [{ tag: 'a', weight: 100 }] };
    expect(readJson('rules', good, readRules)).toEqual({ ok: true, value: good.rules });
    const src = new SourceFile('rules.yaml', 'rules: [{tag: a, weight: 100}]\n');
    src.parse();
    expect(readRules(new PlanReader(src), rootEntry(src))).toEqual(good.rules);
  });
});
