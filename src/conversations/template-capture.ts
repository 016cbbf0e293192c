// How the CLI opens a session for a model (the model attachment: "You are powered by the model
// named ..."), learnt without any API call. An imported transcript must open with it to reach the
// API with the same bytes as a live session, and only the CLI knows its text. A CLI process is
// pointed at a loopback endpoint of the gateway's own that refuses every request at once, with a
// placeholder key and no real credential; the CLI writes the attachments into its transcript before
// it calls the API, and the session tap keeps them. No answer from here ever reaches a client.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CliProcess } from '../engine/cli-process.js';

export type SpawnForCapture = (env: Record<string, string>) => CliProcess;

const REFUSAL = JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: 'template capture: no model call is made' } });

/** Run one refused turn in a process started by `spawn`; resolves when it is over (or after timeoutMs). */
export async function captureTemplate(spawn: SpawnForCapture, timeoutMs = 15_000): Promise<void> {
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(REFUSAL);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const proc = spawn({ ANTHROPIC_BASE_URL: url, ANTHROPIC_API_KEY: 'template-capture' });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        await proc.ready;
        const frames = proc.frames();
        proc.send([{ type: 'text', text: '.' }]);
        for (;;) {
          const next = await frames.next();
          if (next.done || next.value.type === 'result') return;
        }
      })(),
      new Promise((r) => (timer = setTimeout(r, timeoutMs))),
    ]);
  } catch {
    /* a failed capture only means imports open without the model line, as before */
  } finally {
    clearTimeout(timer);
    await proc.kill();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}
