#!/usr/bin/env node
// The `tally` command as npm links it. npm links bins during `npm install`, before `npm run build`
// creates dist/, so the link must target this committed file, which loads the build.
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('tally: the CLI is not built yet. Run `npm run build` in the repository root, then try again.');
  process.exit(1);
}
await import(main.href);
