// Finding the opencode binary and running `opencode run` against a gateway in a throwaway home.
// opencode-ai ships its native binary in a platform package (opencode-linux-x64 ...): see
// platformBinary.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { platformBinary } from './coding-cli.js';

export const opencodeBinary = (): string => platformBinary('opencode', 'opencode');

export function opencodeVersion(bin: string): Promise<string> {
  return new Promise((resolve, reject) => execFile(bin, ['--version'], { timeout: 60_000 }, (e, out) => (e ? reject(e) : resolve(out.trim()))));
}

/** The config the README gives: the gateway as an OpenAI-compatible provider. */
export function opencodeConfig(baseURL: string): object {
  return {
    $schema: 'https://opencode.ai/config.json',
    provider: {
      gateway: {
        npm: '@ai-sdk/openai-compatible',
        name: 'Claude Code Gateway',
        options: { baseURL, apiKey: '{env:GATEWAY_API_KEY}' },
        models: { sonnet: { name: 'Claude Sonnet (gateway)' } },
      },
    },
    model: 'gateway/sonnet',
    permission: { bash: 'allow' },
    autoupdate: false,
    share: 'disabled',
  };
}

export interface OpencodeRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The project directory opencode worked in. */
  project: string;
}

/**
 * `opencode run` with the prompt on stdin (opencode quotes argv words that hold spaces), in a
 * fresh home whose only config is `config`, with opencode's network extras (model list, updates,
 * sharing, LSP downloads, Claude Code imports) off.
 */
export async function opencodeRun(bin: string, config: object, prompt: string, apiKey: string): Promise<OpencodeRun> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'opencode-home-'));
  const project = path.join(home, 'project');
  fs.mkdirSync(project);
  const configFile = path.join(home, 'opencode.json');
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local/share'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_STATE_HOME: path.join(home, '.local/state'),
    OPENCODE_CONFIG: configFile,
    GATEWAY_API_KEY: apiKey,
    OPENCODE_DISABLE_MODELS_FETCH: '1',
    OPENCODE_DISABLE_AUTOUPDATE: '1',
    OPENCODE_DISABLE_SHARE: '1',
    OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
    OPENCODE_DISABLE_CLAUDE_CODE: '1',
    OPENCODE_DISABLE_DEFAULT_PLUGINS: '1',
  };
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['run'], { cwd: project, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, project }));
    child.stdin.end(prompt);
  });
}
