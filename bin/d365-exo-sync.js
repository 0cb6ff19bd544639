#!/usr/bin/env node
// The installed command: the bundled CLI does the work (built by `npm run build`, which `npm ci` runs as `prepare`).
import { run } from '../dist/cli.js';

process.exitCode = await run(process.argv.slice(2));
