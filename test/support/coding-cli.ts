// Running a coding CLI (pi, Qwen Code, Continue, Kilo, Cline) headless against the gateway: a
// throwaway home and work dir per client, each run's exit code, output and wall time, the config
// files the README quotes (examples/<client>/), and what the scripted upstream and /stats saw. One
// helper for every client so each test reads as its client's own steps only.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { Harness } from './harness.js';
import { TEST_KEY } from './harness.js';
import { answeredLive } from './tools.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** A client's example config file, as the README quotes it. */
export function exampleFile(client: string, file: string): string {
  return fs.readFileSync(path.join(ROOT, 'examples', client, file), 'utf8');
}

/** The README quotes this text verbatim (a config is tested as written). */
export function assertReadmeQuotes(text: string, what: string): void {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  assert.ok(readme.includes(text.trim()), `README quotes ${what} verbatim`);
}

/** The README's address of the gateway in an example, replaced by the test's. */
export const withGateway = (text: string, baseURL: string): string => text.replaceAll('http://127.0.0.1:4000/v1', baseURL);

export interface Sandbox {
  root: string;
  /** HOME of the client: its config, sessions and caches live here only. */
  home: string;
  /** The project directory the client works in (its cwd). */
  work: string;
  /** Wall time of each run, for the test's diagnostics (no threshold). */
  timings: string[];
  remove(): void;
}

export function sandbox(client: string): Sandbox {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `ccg-${client}-`));
  const home = path.join(root, 'home');
  const work = path.join(root, 'work');
  fs.mkdirSync(home);
  fs.mkdirSync(work);
  return { root, home, work, timings: [], remove: () => fs.rmSync(root, { recursive: true, force: true }) };
}

/** An environment with nothing of the test runner's but PATH: the client finds only its sandbox. */
export function sandboxEnv(box: Sandbox, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: box.home,
    XDG_CONFIG_HOME: path.join(box.home, '.config'),
    XDG_DATA_HOME: path.join(box.home, '.local/share'),
    XDG_CACHE_HOME: path.join(box.home, '.cache'),
    XDG_STATE_HOME: path.join(box.home, '.local/state'),
    GATEWAY_API_KEY: TEST_KEY,
    NO_COLOR: '1',
    CI: '1',
    ...extra,
  };
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `command args` in the sandbox's work dir and asserts it exited 0 (showing the tail of its
 * output if not). stdin is closed unless `input` is given: some clients wait for more prompt on an
 * open pipe.
 */
export async function runCli(box: Sandbox, label: string, command: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<CliRun> {
  const started = Date.now();
  const child = spawn(command, args, { cwd: box.work, env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  if (input !== undefined) child.stdin!.end(input);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  box.timings.push(`${label} ${Date.now() - started} ms`);
  assert.equal(code, 0, `${label} exited ${code}:\nstdout: ${stdout.slice(-3000)}\nstderr: ${stderr.slice(-3000)}`);
  return { code, stdout, stderr };
}

/** The message lists of every model request that reached the scripted upstream. */
export const modelRequests = (h: Harness): any[][] => h.upstream.requests.filter((r) => r.path === '/v1/messages').map((r) => (r.body.messages ?? []) as any[]);

/** The tool names the model was offered in the last model request. */
export const offeredTools = (h: Harness): string[] => (h.upstream.requests.filter((r) => r.path === '/v1/messages').at(-1)?.body.tools ?? []).map((t: any) => String(t.name));

/** How the gateway served each turn so far (`/stats` → conversation_paths). */
export async function conversationPaths(h: Harness): Promise<Record<string, number>> {
  const res = await fetch(`${h.gw.url}/stats`, { headers: { authorization: `Bearer ${TEST_KEY}` } });
  return ((await res.json()) as { conversation_paths: Record<string, number> }).conversation_paths;
}

/**
 * The second run continued the first conversation: a model request of that run carries the first
 * run's prompt and tool output as history before the new prompt, and the gateway served every turn of
 * that run from the first run's Claude Code session (live or resumed), none as an imported or
 * flattened conversation. `before` is /stats' conversation_paths and `sentBefore` the count of model
 * requests, both taken between the two runs. A client's own side requests of the second run (Kilo
 * asks for a session title, possibly after the edit) are other conversations and not looked at.
 */
export async function assertContinued(h: Harness, before: Record<string, number>, sentBefore: number, firstPrompt: string, firstOutput: string, secondPrompt: string): Promise<Record<string, number>> {
  const needle = (text: string) => JSON.stringify(text.slice(0, 40)).slice(1, -1);
  const sent = modelRequests(h).slice(sentBefore).map((m) => JSON.stringify(m));
  assert.ok(sent.some((m) => m.includes(needle(firstPrompt)) && m.includes(needle(secondPrompt))), 'a request of the continued run carries the first prompt before the new one');
  assert.ok(
    sent.some((m) => m.includes(needle(firstPrompt)) && m.includes(needle(secondPrompt)) && m.includes(firstOutput)),
    "the first run's tool output is in the continued conversation's request",
  );
  const after = await conversationPaths(h);
  const added = Object.fromEntries(Object.keys(after).map((k) => [k, after[k]! - (before[k] ?? 0)]));
  const seen = JSON.stringify({ before, added });
  // A request with history is never `new`: a `new` turn here is a client's side request of its own
  // (Kilo asks for a session title), not the conversation.
  for (const k of ['imported', 'flattened']) assert.equal(added[k], 0, `the continued run had no ${k} turn: ${seen}`);
  assert.ok(added.live! + added.resumed! > 0, `the continued run went on in the first run's session: ${seen}`);
  return added;
}

/** The file of a package's `bin` entry (a dev dependency unless `dir` says where it is), to run with node. */
export function packageBin(pkg: string, bin: string, dir = path.join(ROOT, 'node_modules', pkg)): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { bin?: string | Record<string, string>; version: string };
  const rel = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin?.[bin];
  assert.ok(rel, `${pkg} has a ${bin} bin: run npm ci`);
  return path.join(dir, rel);
}

/** A dev dependency's installed version, for the test's title. */
export const packageVersion = (pkg: string): string =>
  (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;

/** The file every client edits, as the test seeds it in the work dir. */
export const SEEDED = { file: 'notes.txt', text: 'hello from the test\n' };
/** A shell command whose output is computed, so seeing it proves the command really ran. */
export const SHELL_COMMAND = 'echo made-by-$((6*7))';
export const SHELL_OUTPUT = 'made-by-42';

export interface ClientScript {
  /** `[[tool:...]]` marker calling the client's shell tool with SHELL_COMMAND. */
  shell: string;
  /** Marker(s) editing SEEDED.file: replacing `hello` with `edited`. */
  edit: string;
  /** Runs the client once on `prompt`, `resume`: with its continue flag. */
  run(prompt: string, resume: boolean): Promise<CliRun>;
}

/**
 * One scripted conversation in two runs: the first runs a shell command (its output must reach the
 * model in the next request), the second, with the client's continue flag, edits the seeded file
 * (its contents on disk change) and is served as the same conversation.
 */
export async function shellEditContinue(h: Harness, box: Sandbox, client: ClientScript): Promise<{ first: CliRun; second: CliRun; added: Record<string, number> }> {
  fs.writeFileSync(path.join(box.work, SEEDED.file), SEEDED.text);
  const firstPrompt = `Run a command. ${client.shell} [[after-tool:Shell said:]]`;
  const first = await client.run(firstPrompt, false);
  assert.ok(answeredLive(h.upstream, SHELL_OUTPUT), "the command's output reached the model as the tool result");
  assert.match(first.stdout, /Shell said: .*made-by-42/s, "the model's answer (from the command's output) reached the client");

  const before = await conversationPaths(h);
  const sentBefore = modelRequests(h).length;
  const secondPrompt = `Now edit ${SEEDED.file}. ${client.edit} [[after-tool:Edit said:]]`;
  const second = await client.run(secondPrompt, true);
  assert.equal(fs.readFileSync(path.join(box.work, SEEDED.file), 'utf8'), 'edited from the test\n', `the edit changed the file on disk; the client said: ${second.stdout.slice(-1500)}`);
  assert.match(second.stdout, /Edit said:/, "the edit's result reached the model and its answer the client");
  const added = await assertContinued(h, before, sentBefore, firstPrompt, SHELL_OUTPUT, secondPrompt);
  return { first, second, added };
}

/**
 * The native binary of a CLI shipped in platform packages (`<prefix>-linux-x64`, `-baseline`,
 * `-musl` ...), as opencode and its fork Kilo do. Their own postinstall only links it, so it is taken
 * from the platform package directly and works after `npm ci` whatever npm's install-script policy is.
 */
export function platformBinary(prefix: string, bin: string): string {
  const require = createRequire(import.meta.url);
  const base = `${prefix}-${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  for (const name of [base, `${base}-baseline`, `${base}-musl`, `${base}-baseline-musl`]) {
    try {
      const file = path.join(path.dirname(require.resolve(`${name}/package.json`)), 'bin', process.platform === 'win32' ? `${bin}.exe` : bin);
      if (fs.existsSync(file)) return file;
    } catch {
      /* not installed for this platform */
    }
  }
  throw new Error(`no ${bin} binary for ${process.platform}-${process.arch} (${base}): run npm ci`);
}
