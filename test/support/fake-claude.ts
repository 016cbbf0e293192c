// A `claude` executable for tests: `setup-token` is the scripted stand-in (fake-setup-token.mjs),
// every other command is the real CLI, so the gateway's `--version` check and its turns stay real.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundledClaudePath } from '../../src/engine/claude-binary.js';

const STAND_IN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fake-setup-token.mjs');

const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Writes the wrapper into dir and returns its path (use as claudePath / GATEWAY_CLAUDE_PATH). */
export function makeFakeClaude(dir: string): string {
  const real = bundledClaudePath();
  if (!real) throw new Error('the Agent SDK ships no Claude CLI for this platform');
  const file = path.join(dir, 'claude');
  fs.writeFileSync(
    file,
    `#!/bin/sh\nif [ "$1" = "setup-token" ]; then exec ${sh(process.execPath)} ${sh(STAND_IN)}; fi\nexec ${sh(real)} "$@"\n`,
    { mode: 0o755 },
  );
  return file;
}

/** The token the stand-in prints for a code. */
export function tokenFor(code: string): string {
  return `sk-ant-oat01-${crypto.createHash('sha256').update(code).digest('base64url')}AA`;
}
