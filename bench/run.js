#!/usr/bin/env node
// npm run bench: every "bench:*" script of package.json in turn (bench:sync, bench:serve), arguments passed on.
const { spawnSync } = require('node:child_process');
const scripts = Object.keys(require('../package.json').scripts).filter((s) => s.startsWith('bench:'));
for (const s of scripts) {
  const r = spawnSync('npm', ['run', '--silent', s, '--', ...process.argv.slice(2)], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
