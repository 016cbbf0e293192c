// Finding the Claude Code executable and proving it runs.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** The CLI binary the Agent SDK ships in its platform package (e.g. @anthropic-ai/claude-agent-sdk-linux-x64). */
export function bundledClaudePath(): string | undefined {
  const require = createRequire(import.meta.url);
  const base = `@anthropic-ai/claude-agent-sdk-${process.platform}-${process.arch}`;
  const exe = process.platform === 'win32' ? 'claude.exe' : 'claude';
  for (const name of [base, `${base}-musl`]) {
    try {
      const dir = path.dirname(require.resolve(`${name}/package.json`));
      const file = path.join(dir, exe);
      if (fs.existsSync(file)) return file;
    } catch {
      /* not installed for this platform */
    }
  }
  return undefined;
}

export class ClaudeBinaryError extends Error {}

/** Runs `claude --version`; resolves with the version line or throws a message an operator can act on. */
export function claudeVersion(claudePath: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(claudePath, ['--version'], { env, timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) {
        const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file does not exist' : (stderr || err.message).trim().slice(0, 300);
        reject(new ClaudeBinaryError(`The Claude Code CLI at ${claudePath} does not run (${why}). Set GATEWAY_CLAUDE_PATH to a working \`claude\` executable, or reinstall so @anthropic-ai/claude-agent-sdk ships its binary.`));
        return;
      }
      resolve(stdout.trim());
    });
  });
}
