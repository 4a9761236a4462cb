// Secrets the dev stack generates once and keeps under DATA_DIR (mode 0600), so a restart keeps
// the same admin token, encryption key and database password.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export function ensureDevSecret(dataDir: string, fileName: string, generate: () => string): { value: string; file: string } {
  const file = path.join(dataDir, fileName);
  try {
    const value = fs.readFileSync(file, 'utf8').trim();
    if (value) return { value, file };
  } catch {
    /* first start */
  }
  return saveDevSecret(dataDir, fileName, generate());
}

/** Writes (or replaces) a secret file under DATA_DIR, readable by its owner only. */
export function saveDevSecret(dataDir: string, fileName: string, value: string): { value: string; file: string } {
  const file = path.join(dataDir, fileName);
  fs.writeFileSync(file, `${value}\n`, { mode: 0o600 });
  fs.chmodSync(file, 0o600); // an existing file keeps its mode otherwise
  return { value, file };
}

export const generators = {
  adminToken: () => `adm_${crypto.randomBytes(32).toString('base64url')}`,
  encryptionKey: () => crypto.randomBytes(32).toString('base64'),
  password: () => crypto.randomBytes(24).toString('base64url'),
};
