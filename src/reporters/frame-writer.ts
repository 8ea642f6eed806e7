/**
 * Draws the live view's frames in place: each frame erases the previous one line by line and
 * is written whole, inside synchronized-output markers so terminals that know them show no
 * half-drawn frame. Replaces log-update, whose line-diffing (7.x) writes an inserted line over
 * the line below instead of pushing it down: once the event log grew, the key footer under it
 * was overwritten and never drawn again. Whole frames cost a few hundred bytes a second here.
 *
 * The caller keeps each line within the terminal's width and the frame within its height, so
 * the number of lines written is the number of rows to erase next time.
 */
import type { OutStream } from '../io.js';

const SYNC_ON = '\u001B[?2026h';
const SYNC_OFF = '\u001B[?2026l';
const ERASE_LINE = '\u001B[2K';
const UP = '\u001B[1A';
const TO_COLUMN_1 = '\u001B[G';

function eraseLines(count: number): string {
  let text = '';
  for (let i = 0; i < count; i++) text += ERASE_LINE + (i < count - 1 ? UP : '');
  return count > 0 ? text + TO_COLUMN_1 : '';
}

export class FrameWriter {
  /** Rows the last frame took, counting the empty line the cursor waits on. */
  private rows = 0;
  private last = '';

  constructor(private readonly out: OutStream) {}

  draw(frame: string): void {
    if (frame === this.last && this.rows > 0) return;
    const erase = eraseLines(this.rows);
    this.out.write(`${this.out.isTTY ? SYNC_ON : ''}${erase}${frame}\n${this.out.isTTY ? SYNC_OFF : ''}`);
    this.rows = frame.split('\n').length + 1;
    this.last = frame;
  }

  /** Takes the frame off the screen (for a prompt). */
  clear(): void {
    if (this.rows > 0) this.out.write(eraseLines(this.rows));
    this.forget();
  }

  /** Leaves the frame where it is: the next one is drawn below it (or on a cleared screen). */
  forget(): void {
    this.rows = 0;
    this.last = '';
  }
}
