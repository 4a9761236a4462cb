// How much a clone takes on disk, for MAX_REPO_SIZE: the apparent size of every file under a
// directory (symlinks counted as links, never followed). Measured while git writes, so files may
// appear, be renamed or vanish during the walk: those are skipped, never an error.
import { promises as fs, type Dirent } from 'node:fs';
import path from 'node:path';

/** Total bytes of the files under `dir` (0 when it does not exist). */
export async function dirBytes(dir: string): Promise<number> {
  let entries: Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  const sizes = await Promise.all(
    entries.map(async (e) => {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) return dirBytes(p);
      try {
        return (await fs.lstat(p)).size;
      } catch {
        return 0; // renamed or removed meanwhile
      }
    }),
  );
  return sizes.reduce((a, b) => a + b, 0);
}
