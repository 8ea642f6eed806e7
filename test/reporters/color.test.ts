/**
 * src/reporters/color.ts paints validate's messages without loading chalk when nothing is
 * coloured: its plain styles must give exactly what chalk at level 0 gives, and with colour on
 * they must be chalk's.
 */
import { describe, expect, it } from 'vitest';
import { createChalk } from '../../src/reporters/chalk.js';
import { paint } from '../../src/reporters/color.js';

const STYLES = ['bold', 'green', 'red', 'yellow'] as const;
const TEXTS = ['', 'plan.yaml:3:5:', 'warning: 5 % of traffic ✓', 'multi\nline', ' '];

describe('paint', () => {
  it('uncoloured, each style returns what chalk at level 0 returns', async () => {
    const plain = await paint(false);
    const chalk = createChalk(false);
    for (const style of STYLES) {
      for (const text of TEXTS)
        expect(plain[style](text), `${style} ${JSON.stringify(text)}`).toBe(chalk[style](text));
    }
  });

  it("coloured, the styles are chalk's", async () => {
    const coloured = await paint(true);
    const chalk = createChalk(true);
    for (const style of STYLES) expect(coloured[style]('x')).toBe(chalk[style]('x'));
    expect(coloured.red('x')).not.toBe('x');
  });
});
