// Types for scripts/build-checks.mjs, which Node runs as it is (the build cannot need a build).
export declare const ALLOWED_IMPORTS: Record<string, string[]>;
export declare function checkImportText(file: string, text: string): Record<string, string[]>;
export declare const ROLLBACK_EXCLUDES: string[];
export declare function checkRollbackInputs(inputs: readonly string[]): void;
export declare function checkBundleText(file: string, text: string): void;
export declare const LIGHT_COMMANDS: Record<string, string[]>;
export declare function lightBundles(): Record<string, string[]>;
export declare function belongsToCommand(command: string, path: string): boolean;
export declare const LIGHT_EXCLUDES: string[];
export declare const LIGHT_FORMS: Record<
  string,
  { command: string; when: 'flags-only'; leaveOut: string[]; excludes: string[] }
>;
export declare function checkLightInputs(bundle: string, inputs: readonly string[]): void;
export declare const REPORT_ONLY: string[];
export declare function checkReportOutside(bundle: string, inputs: readonly string[]): void;
