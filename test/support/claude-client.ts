// The Claude Code CLI as a client of the gateway: the binary the Agent SDK ships (the same one the
// gateway drives), in print mode, with ANTHROPIC_BASE_URL at the gateway and the gateway key as its
// ANTHROPIC_API_KEY, in a throwaway home and project directory.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundledClaudePath } from '../../src/engine/claude-binary.js';

export interface ClaudeClient {
  bin: string;
  home: string;
  project: string;
  env: NodeJS.ProcessEnv;
}

export function claudeClient(gatewayUrl: string, key: string): ClaudeClient {
  const bin = bundledClaudePath();
  if (!bin) throw new Error('no Claude Code binary: run npm ci');
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'claude-client-'));
  const project = path.join(home, 'project');
  fs.mkdirSync(project);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    ANTHROPIC_BASE_URL: gatewayUrl,
    ANTHROPIC_API_KEY: key,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    // Tool search is off by default for a base URL that is not Anthropic's.
    ENABLE_TOOL_SEARCH: 'true',
  };
  return { bin, home, project, env };
}

export interface PrintResult {
  code: number | null;
  /** The --output-format json result (result, session_id, is_error ...). */
  json: { result?: string; session_id?: string; is_error?: boolean; [k: string]: unknown } | undefined;
  stdout: string;
  stderr: string;
}

/** `claude -p --output-format json [args] -- prompt` in the client's project directory. */
export function claudePrint(client: ClaudeClient, args: string[], prompt: string): Promise<PrintResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(client.bin, ['-p', '--output-format', 'json', '--model', 'sonnet', ...args, '--', prompt], { cwd: client.project, env: client.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      let json: PrintResult['json'];
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code, json, stdout, stderr });
    });
  });
}
