import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One row per OAuth callback: the state's nonce (unique, so a state works once), and the
 * authorization code then the tokens, sealed, while the install workflow runs. Code and tokens
 * are cleared once saved; the nonce stays until the row expires.
 */
export class InstallAttempts1764300000050 implements MigrationInterface {
  name = 'InstallAttempts1764300000050';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE install_attempts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        nonce text NOT NULL UNIQUE,
        code text,
        tokens text,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX install_attempts_expiry ON install_attempts (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE install_attempts`);
  }
}
