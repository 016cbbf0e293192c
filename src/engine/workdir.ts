// The one empty working directory every CLI process shares (GATEWAY_CLI_WORKDIR). The CLI names it
// to the model, so its path says nothing of the gateway and is the same on every replica; and since
// it sits in a shared temp folder, it must be ours: a real directory (not a link), owned by this user.
import fs from 'node:fs';
import { ConfigError } from '../config/config.js';

export function prepareWorkDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new ConfigError(`GATEWAY_CLI_WORKDIR: cannot create ${dir} (${(e as NodeJS.ErrnoException).code}). Set GATEWAY_CLI_WORKDIR to an empty folder this user owns.`);
  }
  const st = fs.lstatSync(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) {
    throw new ConfigError(
      `GATEWAY_CLI_WORKDIR: ${dir} is ${st.isSymbolicLink() ? 'a symbolic link' : !st.isDirectory() ? 'not a directory' : `owned by uid ${st.uid}, not ${uid}`}; ` +
        'the CLI processes run in it. Remove it or set GATEWAY_CLI_WORKDIR to an empty folder this user owns.',
    );
  }
  if (st.mode & 0o022) fs.chmodSync(dir, 0o700);
}
