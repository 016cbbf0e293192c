// Each CLI process gets a temp folder of its own as its TMPDIR, removed when it exits. Claude Code
// leaves things in its TMPDIR that it never removes (a `claude-<uid>/fswatch-probe-*` folder per
// process, measured in the soak: one per process started, for as long as the gateway runs); with a
// private TMPDIR they go with the process. The folders live under one root in the gateway's temp
// folder, <root>/<gateway pid>.<engine id>/<process id>. A gateway killed with kill -9 removes
// nothing, so each start removes the folders of gateways no longer running, and those of its own
// pid's earlier life (in a container the gateway is pid 1 every time); other gateways sharing the
// temp folder (replicas on one host, engines in one test process) keep theirs.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../../log.js';

/** The engines of this process that are running: their folders carry this pid and are not stale. */
const ownLive = new Set<string>();

export class ProcessTempDirs {
  readonly root: string;
  /** This engine's folder: the processes' folders go in it. */
  readonly dir: string;
  private readonly name = `${process.pid}.${crypto.randomBytes(4).toString('hex')}`;

  constructor(tmpdir: string = os.tmpdir()) {
    this.root = path.join(tmpdir, `claude-gateway-${process.getuid?.() ?? 0}`);
    this.dir = path.join(this.root, this.name);
    ownLive.add(this.name);
  }

  /** Make the root (ours: a real folder, owned by this user, closed to others) and remove what
   * gateways no longer running left in it. */
  prepare(log: Logger): void {
    fs.mkdirSync(this.root, { recursive: true, mode: 0o700 });
    const st = fs.lstatSync(this.root);
    const uid = process.getuid?.();
    if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) {
      throw new Error(`${this.root} is not a folder this user owns; the CLI processes' temp folders go there. Remove it.`);
    }
    if (st.mode & 0o077) fs.chmodSync(this.root, 0o700);
    let swept = 0;
    for (const name of fs.readdirSync(this.root)) {
      const pid = Number(name.split('.')[0]);
      if (pid === process.pid ? ownLive.has(name) : Number.isInteger(pid) && pid > 0 && running(pid)) continue;
      fs.rmSync(path.join(this.root, name), { recursive: true, force: true });
      swept++;
    }
    if (swept) log.info({ swept, root: this.root }, 'removed the CLI temp folders of gateways no longer running');
  }

  /** A new, empty folder for one process (mkdir fails rather than take one that exists). */
  create(processId: string): string {
    // Made here, not in prepare(): something may have cleared the temp folder since (tmpfiles.d).
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const dir = path.join(this.dir, processId);
    fs.mkdirSync(dir, { mode: 0o700 });
    return dir;
  }

  /** The engine has stopped its processes: its folder goes too. */
  close(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
    ownLive.delete(this.name);
  }
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
