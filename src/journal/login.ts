/**
 * Who runs this process, for the journal's header, a control request and `run_by`: the passwd
 * entry's login name, else the environment's. Its own module (node:os only) so the control
 * commands can say who asks without loading the journal.
 */
import { userInfo } from 'node:os';

/** The login name, or undefined when neither the passwd entry nor $USER/$USERNAME names one. */
export function loginName(env: Record<string, string | undefined> = process.env): string | undefined {
  try {
    const name = userInfo().username;
    if (name) return name;
  } catch {
    // No passwd entry (some containers): the environment's name, if any.
  }
  return env.USER || env.USERNAME || undefined;
}
