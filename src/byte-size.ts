// Sizes as operators write them (MAX_REPO_SIZE=500m) and as people read them in messages
// ("500 MB"). Units are binary: k = 1024 bytes, m = 1024 k, g = 1024 m, t = 1024 g, as in
// docker's and git's own size options. Pure module.

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/**
 * `500m`, `2g`, `1024k`, `1.5g`, `500MB`, `2GiB`, plain bytes (`1048576`), or `0`; case and a
 * space before the unit do not matter. Null for anything else (negative, empty, unknown unit, or
 * beyond what a double holds exactly).
 */
export function parseByteSize(text: string): number | null {
  if (typeof text !== 'string') return null;
  const m = /^(\d+(?:\.\d+)?)\s*(?:([kmgt])(?:i?b)?|(b))?$/i.exec(text.trim());
  if (!m) return null;
  const unit = UNITS[(m[2] ?? m[3] ?? '').toLowerCase()];
  const bytes = Math.round(Number(m[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : null;
}

/** 1048576 → "1 MB", 1610612736 → "1.5 GB", 500 → "500 bytes" (binary units, one decimal at most). */
export function formatByteSize(bytes: number): string {
  for (const [unit, size] of [['TB', UNITS.t], ['GB', UNITS.g], ['MB', UNITS.m], ['KB', UNITS.k]] as const) {
    if (bytes >= size) {
      const value = bytes / size;
      const text = Number.isInteger(value) ? String(value) : value.toFixed(1).replace(/\.0$/, '');
      return `${text} ${unit}`;
    }
  }
  return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
}
