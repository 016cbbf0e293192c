// A Node 22 for the clients that need it (Qwen Code, Cline) while the gateway runs on Node 20. It is
// not a dev dependency: the node-<os>-<arch> package's `node` bin would shadow the project's node in
// npm scripts, and the `node` package fetches its binary from an install script npm 11 skips. So the
// test installs the platform package (the official binary, from the npm registry) once into a cache
// under node_modules (so `npm ci` starts it afresh) and runs the client with it.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CACHE = path.resolve(import.meta.dirname, '../../node_modules/.cache/ccg-node22');
const MAJOR = 22;

let pending: Promise<string> | undefined;

/** The path of a Node 22 binary: this one if it is 22 or later, else the cached platform package. */
export function node22(): Promise<string> {
  if (Number(process.versions.node.split('.')[0]) >= MAJOR) return Promise.resolve(process.execPath);
  return (pending ??= install());
}

async function install(): Promise<string> {
  const pkg = `node-${process.platform}-${process.arch}`;
  const bin = path.join(CACHE, 'node_modules', pkg, 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
  if (!fs.existsSync(bin)) {
    fs.mkdirSync(CACHE, { recursive: true });
    if (!fs.existsSync(path.join(CACHE, 'package.json'))) fs.writeFileSync(path.join(CACHE, 'package.json'), '{"private":true}\n');
    await run('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--no-package-lock', `${pkg}@${MAJOR}`], { cwd: CACHE, timeout: 600_000 });
  }
  const { stdout } = await run(bin, ['--version']);
  if (!stdout.startsWith(`v${MAJOR}.`)) throw new Error(`${bin} is ${stdout.trim()}, not Node ${MAJOR}`);
  return bin;
}
