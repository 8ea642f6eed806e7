import { describe, expect, it } from 'vitest';
import { CloseList } from '../../src/commands/close-list.js';

describe('CloseList', () => {
  it('closes in reverse order of opening, each closer once, with how the run ended', async () => {
    const done: string[] = [];
    const list = new CloseList<{ exitCode: number }>(() => {});
    list.add('journal', ({ exitCode }) => void done.push(`journal ${exitCode}`));
    list.add('relay', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      done.push('relay');
    });
    list.add('terminal', () => void done.push('terminal'));
    await list.close({ exitCode: 3 });
    await list.close({ exitCode: 0 });
    expect(done).toEqual(['terminal', 'relay', 'journal 3']);
  });

  it('a closer that fails is reported and the ones opened before it still close', async () => {
    const done: string[] = [];
    const warnings: string[] = [];
    const list = new CloseList<void>((text) => warnings.push(text));
    list.add('journal', () => void done.push('journal'));
    list.add('terminal', () => {
      throw new Error('EIO: the terminal hung up');
    });
    list.add('control channel', async () => {
      throw new Error('socket gone');
    });
    await list.close();
    expect(done).toEqual(['journal']);
    expect(warnings).toEqual([
      'closing the control channel failed: socket gone',
      'closing the terminal failed: EIO: the terminal hung up',
    ]);
  });
});
