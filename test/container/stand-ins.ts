// Redis and haproxy images without an image registry: built FROM the debootstrapped Debian base with
// Debian's redis-server and haproxy, and tagged with the names the compose file and the Kubernetes
// manifests use (redis:7, haproxy:2.6), so the tests run those files unchanged. Each behaves as the
// official image does where the files rely on it: the commands on PATH, redis's /data owned by 999
// (the official image's redis user), haproxy's config read from /usr/local/etc/haproxy/haproxy.cfg
// and run as an unprivileged user. An image of that name that is not ours (pulled from a registry)
// is left alone and used as it is.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEBIAN_IMAGE } from './base-image.js';
import { podman } from './podman.js';

const RECIPE_LABEL = 'ccg.stand-in';

const STAND_INS: { image: string; recipe: string; lines: string[] }[] = [
  {
    image: 'docker.io/library/redis:7',
    recipe: 'redis-v1',
    lines: [
      'RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends redis-server >/dev/null && rm -rf /var/lib/apt/lists/* \\',
      ' && mkdir /data && chown 999:999 /data',
      'WORKDIR /data',
      'EXPOSE 6379',
      'CMD ["redis-server"]',
    ],
  },
  {
    image: 'docker.io/library/haproxy:2.6',
    recipe: 'haproxy-v1',
    lines: [
      'RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends haproxy >/dev/null && rm -rf /var/lib/apt/lists/* \\',
      ' && mkdir -p /usr/local/etc/haproxy && cp /etc/haproxy/haproxy.cfg /usr/local/etc/haproxy/haproxy.cfg',
      'USER haproxy',
      'CMD ["haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]',
    ],
  },
];

/** Builds (or reuses) the stand-ins; returns the names built and the milliseconds spent. */
export async function ensureStandIns(log: (s: string) => void): Promise<{ built: string[]; ms: number }> {
  const t0 = Date.now();
  const built: string[] = [];
  for (const s of STAND_INS) {
    const inspect = await podman(['image', 'inspect', '--format', `{{index .Labels "${RECIPE_LABEL}"}}`, s.image], { allowFail: true });
    const label = inspect.code === 0 ? inspect.stdout.trim().replace('<no value>', '') : undefined;
    // Ours and current, or a real image of that name (no label): use it. Else (none, older recipe): build.
    if (label === s.recipe || label === '') continue;
    const ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-stand-in-'));
    try {
      fs.writeFileSync(path.join(ctx, 'Containerfile'), [`FROM ${DEBIAN_IMAGE}`, ...s.lines, `LABEL ${RECIPE_LABEL}=${s.recipe}`].join('\n') + '\n');
      const b0 = Date.now();
      // Host networking: apt-get reaches the mirror as the host does.
      await podman(['build', '--format', 'docker', '--network', 'host', '-t', s.image, '-f', path.join(ctx, 'Containerfile'), ctx]);
      log(`${s.image} (stand-in: Debian's package) built in ${((Date.now() - b0) / 1000).toFixed(0)} s`);
      built.push(s.image);
    } finally {
      fs.rmSync(ctx, { recursive: true, force: true });
    }
  }
  return { built, ms: Date.now() - t0 };
}
