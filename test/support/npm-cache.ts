// Packages a test installs from the npm registry itself, once, into a cache under node_modules (so
// `npm ci` starts it afresh): what cannot be a dev dependency. Qwen Code (its optional
// @teddyzhu/clipboard-* packages for other platforms were never published, so `npm ci` refuses a lock
// file without them) and a Node 22 to run it (the
// node-<os>-<arch> package's `node` bin would shadow the project's node in npm scripts, and the
// `node` package fetches its binary from an install script npm 11 skips), Cline's native binary
// (its `cline` package pulls some 270 MB of JavaScript the binary does not use; the platform package
// alone is the binary) and Kilo's (@kilocode/cli lists platform packages that were never published
// for its version, so as a dev dependency it breaks `npm ci`).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CACHE = path.resolve(import.meta.dirname, '../../node_modules/.cache/ccg-clients');

/** The platform package's name: `${prefix}-linux-x64` and so on. */
export const platformPackage = (prefix: string): string => `${prefix}-${process.platform === 'win32' ? 'win32' : process.platform}-${process.arch}`;

const pending = new Map<string, Promise<string>>();

/**
 * The directory of `name@version` installed in the cache (its own folder per spec, so versions do
 * not meet). npm's ordinary client does the install; nothing runs its install scripts.
 */
export function cachedPackage(name: string, version: string): Promise<string> {
  const spec = `${name}@${version}`;
  let p = pending.get(spec);
  if (!p) pending.set(spec, (p = install(name, spec)));
  return p;
}

async function install(name: string, spec: string): Promise<string> {
  const root = path.join(CACHE, spec.replace(/[^a-zA-Z0-9.@-]/g, '_'));
  const dir = path.join(root, 'node_modules', name);
  if (!fs.existsSync(path.join(dir, 'package.json'))) {
    fs.mkdirSync(root, { recursive: true });
    fs.writeFileSync(path.join(root, 'package.json'), '{"private":true}\n');
    await run('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--no-package-lock', '--ignore-scripts', spec], { cwd: root, timeout: 900_000 });
  }
  return dir;
}

/** A Node 22 binary: this one if it is 22 or later, else the official one from the registry's platform package. */
export async function node22(): Promise<string> {
  if (Number(process.versions.node.split('.')[0]) >= 22) return process.execPath;
  const dir = await cachedPackage(platformPackage('node'), '22');
  const bin = path.join(dir, 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
  const { stdout } = await run(bin, ['--version']);
  if (!stdout.startsWith('v22.')) throw new Error(`${bin} is ${stdout.trim()}, not Node 22`);
  return bin;
}
