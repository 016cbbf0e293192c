// The floor peer of npm run bench: what driving the real CLI costs with nothing else around it. A
// minimal OpenAI-compatible server keeps one started Claude Code process per concurrent request (the
// gateway's own CliProcess, spawned with the gateway's options) and, for each request, rewinds a
// finished process to a blank session and sends the message, streaming its text deltas as Chat
// Completions chunks. No keys, no validation, no dialect, no conversation store, no transcript: the
// gateway's figures minus these are what the gateway itself adds; these minus a direct call are the
// CLI's own time per turn, which no peer that answers through the real CLI can go below.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gatewayCliEnv } from '../src/engine/child-env.js';
import { CliProcess } from '../src/engine/cli-process.js';
import { createLogger } from '../src/log.js';

export interface FloorServer {
  url: string;
  close(): Promise<void>;
}

export async function startCliFloor(claudePath: string, env: Record<string, string>, size: number): Promise<FloorServer> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-floor-'));
  const log = createLogger('silent');
  const make = () =>
    new CliProcess({
      claudePath,
      workRoot: root,
      sharedCwd: path.join(root, 'cwd'),
      env: { ...env, CLAUDE_CONFIG_DIR: path.join(root, '.claude'), ...gatewayCliEnv(0) },
      options: { model: 'sonnet', tools: [], allowedTools: [], permissionMode: 'dontAsk', settingSources: [], strictMcpConfig: true, includePartialMessages: true, persistSession: false, extraArgs: { 'disable-slash-commands': null } },
      log,
    });
  const all = Array.from({ length: size }, make);
  await Promise.all(all.map((p) => p.ready));
  const idle = [...all];
  const waiting: ((p: CliProcess) => void)[] = [];
  const take = () => new Promise<CliProcess>((r) => (idle.length ? r(idle.pop()!) : waiting.push(r)));
  const give = (p: CliProcess) => (waiting.length ? waiting.shift()!(p) : idle.push(p));

  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', async () => {
      const body = JSON.parse(raw) as { model: string; messages: { role: string; content: string }[] };
      const proc = await take();
      if (proc.rewindable && !(await proc.rewind(5000))) throw new Error('rewind refused');
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (content: string) => `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', model: body.model, choices: [{ index: 0, delta: { content } }] })}\n\n`;
      proc.send([{ type: 'text', text: body.messages.map((m) => m.content).join('\n\n') }]);
      const frames = proc.frames();
      for (;;) {
        const { value: f, done } = await frames.next();
        if (done) break;
        const d = f.type === 'stream_event' && f.event.type === 'content_block_delta' ? f.event.delta : undefined;
        if (d?.type === 'text_delta') res.write(chunk(d.text));
        if (f.type === 'result') break;
      }
      proc.idle();
      give(proc);
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    close: async () => {
      await new Promise((r) => server.close(() => r(undefined)));
      await Promise.all(all.map((p) => p.kill()));
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
