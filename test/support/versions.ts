// The version of an installed client package, for tests that state the client version they ran.
import fs from 'node:fs';
import path from 'node:path';

export function installedVersion(pkg: string): string {
  const file = path.join(process.cwd(), 'node_modules', pkg, 'package.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}
