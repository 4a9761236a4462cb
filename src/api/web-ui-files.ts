// Where the web UI's build lives and how its URLs look, shared by the build (web/build.ts) and the
// route that serves it (routes/web-ui.ts). Node's path only: the build script loads it too.
import path from 'node:path';

/** URL prefix of the UI's assets (CONTRACT §12: one prefix, outside /v1). */
export const ASSET_PREFIX = '/ui/';

/** The build's output: `index.html` and `assets/<name>-<hash>.<ext>`. */
export function webUiDir(root: string): string {
  return path.join(root, 'dist', 'ui');
}

export const webUiFiles = (dir: string) => ({ page: path.join(dir, 'index.html'), assets: path.join(dir, 'assets') });
