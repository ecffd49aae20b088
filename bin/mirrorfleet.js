#!/usr/bin/env node
// mirrorfleet CLI entry: runs the TypeScript source directly (no build step).
require('ts-node').register({ transpileOnly: true, project: require('node:path').join(__dirname, '..', 'tsconfig.json') });
Promise.resolve(require('./cli.ts').main(process.argv.slice(2))).then((code) => {
  process.exitCode = code;
});
