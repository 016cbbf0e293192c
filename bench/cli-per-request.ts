// The baseline peer of npm run bench: an OpenAI-compatible server that spawns one Claude Code CLI per
// request (`claude -p --output-format stream-json`), as claude-max-api-proxy does, and streams its
// text deltas as Chat Completions chunks. Written here because that package needs the network at
// run time; what it measures is the same: a CLI start on every request's path.
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import readline from 'node:readline';

export interface BaselineServer {
  url: string;
  close(): Promise<void>;
}

export async function startCliPerRequest(claudePath: string, env: Record<string, string>): Promise<BaselineServer> {
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      const body = JSON.parse(raw) as { model: string; messages: { role: string; content: string }[] };
      const prompt = body.messages.map((m) => m.content).join('\n\n');
      const args = ['-p', '--output-format', 'stream-json', '--verbose', '--include-partial-messages', '--model', body.model, '--no-session-persistence', prompt];
      const child = spawn(claudePath, args, { env, stdio: ['ignore', 'pipe', 'ignore'] });
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (content: string) => `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', model: body.model, choices: [{ index: 0, delta: { content } }] })}\n\n`;
      readline.createInterface({ input: child.stdout }).on('line', (line) => {
        let f: any;
        try {
          f = JSON.parse(line);
        } catch {
          return;
        }
        const d = f.type === 'stream_event' && f.event?.type === 'content_block_delta' ? f.event.delta : undefined;
        if (d?.type === 'text_delta') res.write(chunk(d.text));
      });
      child.on('close', () => res.end('data: [DONE]\n\n'));
      res.on('close', () => child.kill());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
