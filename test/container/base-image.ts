// The Node base image without an image registry: a Debian bookworm rootfs from debootstrap (the
// mirror apt uses here), plus this machine's node binary and npm, and user `node` (1000:1000) as in
// the official node:*-slim images. Both are kept in podman's storage and reused when they still match.
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { podman, run } from './podman.js';

export const DEBIAN_IMAGE = 'localhost/ccg-debian:bookworm';
export const NODE_IMAGE = 'localhost/ccg-node:20-bookworm-slim';

const imageLabel = async (image: string, label: string): Promise<string | undefined> => {
  const r = await podman(['image', 'inspect', '--format', `{{index .Labels "${label}"}}`, image], { allowFail: true });
  return r.code === 0 ? r.stdout.trim() : undefined;
};

/** The Debian mirror apt uses on this machine (deb822 .sources first, then sources.list). */
export function debianMirror(): string {
  const dir = '/etc/apt/sources.list.d';
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.sources') || f.endsWith('.list')).map((f) => path.join(dir, f)) : [];
  if (fs.existsSync('/etc/apt/sources.list')) files.push('/etc/apt/sources.list');
  for (const f of files) {
    const text = fs.readFileSync(f, 'utf8');
    for (const m of text.matchAll(/^URIs:\s*(\S+)/gm)) if (!m[1].includes('security')) return m[1];
    for (const m of text.matchAll(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/gm)) return m[1];
  }
  return 'http://deb.debian.org/debian';
}

async function ensureDebian(log: (s: string) => void): Promise<void> {
  if ((await podman(['image', 'exists', DEBIAN_IMAGE], { allowFail: true })).code === 0) return;
  const mirror = debianMirror();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-rootfs-'));
  try {
    const t0 = Date.now();
    log(`debootstrap --variant=minbase bookworm ${mirror}`);
    await run('debootstrap', ['--variant=minbase', 'bookworm', root, mirror]);
    // Keep the image small: apt lists and caches are not needed to run node.
    for (const p of ['var/lib/apt/lists', 'var/cache/apt', 'usr/share/doc', 'usr/share/man', 'usr/share/locale']) {
      fs.rmSync(path.join(root, p), { recursive: true, force: true });
      fs.mkdirSync(path.join(root, p), { recursive: true });
    }
    const tar = `tar -C ${root} -c . | podman import --change 'CMD ["bash"]' - ${DEBIAN_IMAGE}`;
    await run('sh', ['-c', tar]);
    log(`debian base image made in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** Builds (or reuses) the Node 20 base image; returns its name, for the Dockerfile's NODE_IMAGE arg. */
export async function ensureNodeBase(log: (s: string) => void): Promise<string> {
  await ensureDebian(log);
  const nodeBin = fs.realpathSync(execFileSync('sh', ['-c', 'command -v node'], { encoding: 'utf8' }).trim());
  const npmDir = path.join(execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim(), 'npm');
  if (!process.version.startsWith('v20.')) throw new Error(`the base image takes this machine's node, which is ${process.version}, not 20`);
  // Egress through a TLS-intercepting proxy: npm inside the build needs the same CA bundle as here.
  const ca = process.env.NODE_EXTRA_CA_CERTS && fs.existsSync(process.env.NODE_EXTRA_CA_CERTS) ? fs.readFileSync(process.env.NODE_EXTRA_CA_CERTS) : undefined;
  const npmVersion = JSON.parse(fs.readFileSync(path.join(npmDir, 'package.json'), 'utf8')).version as string;
  const recipe = crypto.createHash('sha256').update(`${process.version} ${npmVersion} ${ca ? crypto.createHash('sha256').update(ca).digest('hex') : '-'} v1`).digest('hex').slice(0, 16);
  if ((await imageLabel(NODE_IMAGE, 'ccg.recipe')) === recipe) return NODE_IMAGE;

  const ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-nodebase-'));
  try {
    fs.copyFileSync(nodeBin, path.join(ctx, 'node'));
    fs.cpSync(npmDir, path.join(ctx, 'npm'), { recursive: true });
    const lines = [
      `FROM ${DEBIAN_IMAGE}`,
      'COPY node /usr/local/bin/node',
      'COPY npm /usr/local/lib/node_modules/npm',
      'RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\',
      ' && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node && node --version && npm --version',
    ];
    if (ca) {
      fs.writeFileSync(path.join(ctx, 'extra-ca.crt'), ca);
      lines.push('COPY extra-ca.crt /usr/local/share/ccg-extra-ca.crt', 'ENV NODE_EXTRA_CA_CERTS=/usr/local/share/ccg-extra-ca.crt');
    }
    lines.push(`LABEL ccg.recipe=${recipe}`, 'CMD ["node"]');
    fs.writeFileSync(path.join(ctx, 'Containerfile'), lines.join('\n') + '\n');
    const t0 = Date.now();
    await podman(['build', '--format', 'docker', '-t', NODE_IMAGE, '-f', path.join(ctx, 'Containerfile'), ctx]);
    log(`node base image made in ${((Date.now() - t0) / 1000).toFixed(0)} s (node ${process.version}, npm ${npmVersion}${ca ? ', extra CA bundle' : ''})`);
  } finally {
    fs.rmSync(ctx, { recursive: true, force: true });
  }
  return NODE_IMAGE;
}
