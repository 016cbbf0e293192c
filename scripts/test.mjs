// Runs every *.test.ts under src/, test/ and scripts/ with node's test runner (through tsx), after
// making sure the Debian packages the suite runs are installed (prerequisites.mjs).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensurePrerequisites } from './prerequisites.mjs';

function find(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : find(p);
    return e.name.endsWith('.test.ts') ? [p] : [];
  });
}

ensurePrerequisites();
const only = process.argv.slice(2);
const files = only.length ? only : [...find('src'), ...find('test'), ...find('scripts')].sort();
// node's --test-timeout also bounds each file as a whole. Files that boot a whole coding agent
// (opencode takes tens of seconds to start on 2 busy cores) run after the others with a longer one.
const SLOW = new Set([
  'test/opencode.test.ts',
  'test/pi.test.ts',
  'test/qwen-code.test.ts',
  'test/continue-cli.test.ts',
  'test/kilo.test.ts',
  'test/cline.test.ts',
  'test/cluster.test.ts',
  'test/cluster-faults.test.ts',
]);
const isSlow = (f) => SLOW.has(path.relative(process.cwd(), f).split(path.sep).join('/'));
const run = (list, timeoutMs) =>
  list.length ? (spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', `--test-timeout=${timeoutMs}`, ...list], { stdio: 'inherit' }).status ?? 1) : 0;
// Kilo took 8 minutes for its two runs at a load of 60 on 2 cores: the slow files get 20.
const status = [run(files.filter((f) => !isSlow(f)), 120_000), run(files.filter(isSlow), 1_200_000)];
process.exit(status.find((s) => s !== 0) ?? 0);
