// Types of build.mjs for the TypeScript that imports its options (the packaging test, the tests' fake-server CLI).
import type { BuildOptions } from 'esbuild';

export declare const RUN_TIME_ONLY: string[];
export declare const CLI_BUILD: BuildOptions;
