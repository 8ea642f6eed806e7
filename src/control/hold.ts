/**
 * Whether an operator holds a run at its stage (the `h` key, `canary pause`), as its events
 * tell it: a hold holds, a release or a promote lets go, and each new stage starts unheld. One
 * rule for the live view, the terminal's footer, the control server and `canary status`, so
 * none of them can call a run held that another calls running.
 */
export function heldAfter(held: boolean, event: { type: string; action?: unknown }): boolean {
  if (event.type === 'stage_started') return false;
  if (event.type !== 'operator_action') return held;
  if (event.action === 'hold') return true;
  if (event.action === 'release' || event.action === 'promote') return false;
  return held;
}
