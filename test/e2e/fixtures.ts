/** Emulators the spawned-CLI tests share: one per example scenario, on free loopback ports. */
import { type EmulatorHandle, startEmulator } from '../../src/emulator/index.js';
import { ROOT } from './spawn.js';

export interface ExampleEmulators {
  /** examples/scenarios/healthy.yaml: a canary that should be promoted. */
  healthy: EmulatorHandle;
  /** examples/scenarios/failing.yaml: a canary that breaks at 25 %. */
  failing: EmulatorHandle;
  close(): Promise<void>;
}

/** 2000 simulated rps, so a 5 % stage has enough requests for a verdict in every example plan. */
export async function startExampleEmulators(apiKey: string, seed: number): Promise<ExampleEmulators> {
  const start = (scenario: 'healthy' | 'failing') =>
    startEmulator({
      port: 0,
      apiKey,
      scenario: `${ROOT}/examples/scenarios/${scenario}.yaml`,
      rps: 2000,
      seed,
    });
  const [healthy, failing] = await Promise.all([start('healthy'), start('failing')]);
  return {
    healthy,
    failing,
    async close() {
      await Promise.all([healthy.close(), failing.close()]);
    },
  };
}
