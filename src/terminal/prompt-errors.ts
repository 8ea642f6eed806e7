/** How an @inquirer prompt ended without an answer, told apart by the error's name. */
export type PromptEnd = 'ctrl_c' | 'aborted' | 'other';

export function promptEnd(error: unknown): PromptEnd {
  const name = error instanceof Error ? error.name : '';
  // ExitPromptError: Ctrl-C (or a signal) while the prompt was open.
  if (name === 'ExitPromptError') return 'ctrl_c';
  // AbortPromptError / CancelPromptError: the caller withdrew the question.
  if (name === 'AbortPromptError' || name === 'CancelPromptError') return 'aborted';
  return 'other';
}
