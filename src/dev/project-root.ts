import fs from 'node:fs';
import path from 'node:path';

/** The repository root (the directory of this project's package.json), from src/ or dist/src/. */
export function projectRoot(from = __dirname): string {
  let dir = from;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'lettuce-backend') return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}
