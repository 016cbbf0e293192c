// What `npm test` needs beyond npm: Debian's redis-server (the shared-store tests), chromium (the /auth
// page in a real browser) and haproxy (the replicas behind a balancer). scripts/test.mjs calls
// ensurePrerequisites() first: it installs what is missing with apt-get when it can (root, apt
// available), else stops at once naming the packages and the command that installs them.
// planPrerequisites() is the pure part (tested in prerequisites.test.ts).
import { spawnSync } from 'node:child_process';

/** The commands the suite runs, and the Debian package of each. */
export const PREREQUISITES = [
  { command: 'redis-server', pkg: 'redis-server' },
  { command: 'chromium', pkg: 'chromium' },
  { command: 'haproxy', pkg: 'haproxy' },
];

/**
 * What to do about the missing packages: nothing, run these commands (one `apt-get update`, one
 * install), or stop with this message.
 * @param {{ missing: string[], isRoot: boolean, hasApt: boolean }} state
 * @returns {{ action: 'none' } | { action: 'install', commands: string[][] } | { action: 'stop', message: string }}
 */
export function planPrerequisites({ missing, isRoot, hasApt }) {
  if (!missing.length) return { action: 'none' };
  const pkgs = [...new Set(missing)];
  const install = ['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...pkgs];
  if (isRoot && hasApt) return { action: 'install', commands: [['apt-get', 'update', '-qq'], install] };
  const need = `npm test needs ${pkgs.join(', ')} (Debian package${pkgs.length > 1 ? 's' : ''}), not installed here`;
  const cmd = `sudo apt-get install -y --no-install-recommends ${pkgs.join(' ')}`;
  return {
    action: 'stop',
    message: hasApt
      ? `${need}. Install ${pkgs.length > 1 ? 'them' : 'it'} with:\n  ${cmd}\nthen run npm test again.`
      : `${need}, and there is no apt-get on this machine. Install ${pkgs.length > 1 ? 'them' : 'it'} with its package manager (on Debian or Ubuntu: ${cmd}), then run npm test again.`,
  };
}

const onPath = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** Installs what is missing, or exits 1 with what to run; returns when everything is there. */
export function ensurePrerequisites() {
  const missing = PREREQUISITES.filter((p) => !onPath(p.command)).map((p) => p.pkg);
  const plan = planPrerequisites({ missing, isRoot: process.getuid?.() === 0, hasApt: onPath('apt-get') });
  if (plan.action === 'none') return;
  if (plan.action === 'stop') {
    process.stderr.write(`${plan.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`npm test: installing ${missing.join(' ')} with apt-get\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const [cmd, ...args] of plan.commands) {
    const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (r.status !== 0) {
      process.stderr.write(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal}); install ${missing.join(' ')} and run npm test again.\n`);
      process.exit(1);
    }
  }
  const still = PREREQUISITES.filter((p) => !onPath(p.command)).map((p) => p.command);
  if (still.length) {
    process.stderr.write(`apt-get ran but ${still.join(', ')} is still not on PATH.\n`);
    process.exit(1);
  }
}
