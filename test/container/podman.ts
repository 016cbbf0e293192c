// Podman on a machine with no Docker engine and no image registry: the Debian packages (installed with
// apt-get when missing), a containers.conf of our own with the settings this kind of VM needs, and
// small wrappers that run podman / podman-compose with it. Facts behind each setting: README "Docker".
import { execFileSync, spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const PACKAGES = ['podman', 'buildah', 'runc', 'debootstrap', 'uidmap', 'fuse-overlayfs', 'slirp4netns', 'podman-compose'];

/** Where the base image recipe and containers.conf live between runs. */
export const CACHE_DIR = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'claude-code-gateway-container-test');

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** Installs podman and friends with apt-get when any is missing (CI runs as root on a clean Debian). */
export function ensurePackages(log: (s: string) => void): void {
  const missing = PACKAGES.filter((p) => spawnSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8' }).stdout?.includes('install ok installed') !== true);
  if (!missing.length) return;
  if (process.getuid?.() !== 0) throw new Error(`missing Debian packages: ${missing.join(' ')}; install them as root (apt-get install -y ${missing.join(' ')})`);
  log(`apt-get install ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env });
  if (!has('podman') || !has('podman-compose') || !has('debootstrap')) throw new Error('apt-get ran but podman, podman-compose or debootstrap is still missing');
}

/**
 * A containers.conf for this kind of VM: runc (crun 1.8 refuses its hybrid cgroups), cgroupfs and file
 * events (no systemd), and default ulimits within the hard limits (podman's defaults are above them).
 */
export function writeContainersConf(): string {
  const hard = (flag: string, cap: number) => {
    const v = execFileSync('bash', ['-c', `ulimit -H${flag}`], { encoding: 'utf8' }).trim();
    return v === 'unlimited' ? cap : Math.min(Number(v), cap);
  };
  const nofile = hard('n', 1_048_576);
  const nproc = hard('u', 32_768);
  const conf = [
    '[containers]',
    `default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]`,
    '',
    '[engine]',
    'runtime = "runc"',
    'cgroup_manager = "cgroupfs"',
    'events_logger = "file"',
    '',
  ].join('\n');
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const file = path.join(CACHE_DIR, 'containers.conf');
  fs.writeFileSync(file, conf);
  process.env.CONTAINERS_CONF = file;
  return file;
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; throws with its output unless it exits 0 (or allowFail). */
export function run(cmd: string, args: string[], opts: { input?: string; allowFail?: boolean; cwd?: string; env?: NodeJS.ProcessEnv; echo?: boolean } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const o: SpawnOptions = { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] };
    const child = spawn(cmd, args, o);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => {
      stdout += d;
      if (opts.echo) process.stdout.write(d);
    });
    child.stderr!.on('data', (d) => {
      stderr += d;
      if (opts.echo) process.stderr.write(d);
    });
    child.stdin!.end(opts.input ?? '');
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0 && !opts.allowFail) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}\n${stdout.slice(-4000)}\n${stderr.slice(-4000)}`));
      else resolve({ code, stdout, stderr });
    });
  });
}

export const podman = (args: string[], opts: Parameters<typeof run>[2] = {}) => run('podman', args, opts);
