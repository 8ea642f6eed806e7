/** The flags of `canary rollout`, as src/cli.ts reads them. */
export interface RolloutCommandOptions {
  plan: string;
  dryRun?: boolean | undefined;
  yes?: boolean | undefined;
  output: 'auto' | 'tty' | 'plain' | 'json';
  relayUrl?: string | undefined;
  allowInsecureHttp?: boolean | undefined;
  /** Promote through pause gates once their checks pass (`--yes` does too). */
  approveGates?: boolean | undefined;
  /** Without a terminal, hold at pause gates until `canary promote` (or `abort`) from another shell. */
  waitAtGates?: boolean | undefined;
  /** 1-based stage after whose bake the run stops and holds (exit 0). */
  untilStage?: number | undefined;
  /** What SIGINT/SIGTERM does when nobody can be asked (default rollback). */
  onInterrupt?: 'rollback' | 'leave' | undefined;
  /** Milliseconds the command may run before `onTimeout` applies (exit 5). */
  timeout?: number | undefined;
  onTimeout?: 'rollback' | 'leave' | undefined;
  /** Also write every event as NDJSON here. */
  outputFile?: string | undefined;
  /** Journal, lock and control-socket folder (see src/journal/paths.ts for the rule). */
  stateDir?: string | undefined;
  /** Env var holding the API key, over the plan's relay.api_key_env. */
  apiKeyEnv?: string | undefined;
  /** Key file, over the plan's relay.api_key_file (relative to the current folder). */
  apiKeyFile?: string | undefined;
  /** Move traffic without the plan's pre-traffic evaluation (journaled). */
  skipEvaluation?: boolean | undefined;
  /** Write the HTML report here when the run ends, whatever the outcome. */
  report?: string | undefined;
  color: boolean;
}
