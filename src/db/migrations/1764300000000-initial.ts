import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1764300000000 implements MigrationInterface {
  name = 'Initial1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE accounts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        webhook_secret text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        email text NOT NULL,
        role text NOT NULL CHECK (role IN ('owner', 'member')),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX users_account_email ON users (account_id, lower(email))`);
    await q.query(`
      CREATE TABLE api_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        token_hash text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE provider_installations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        provider text NOT NULL CHECK (provider IN ('bitbucket')),
        access_token text NOT NULL,
        refresh_token text NOT NULL,
        expires_at timestamptz NOT NULL,
        scopes text,
        provider_user_uuid text,
        provider_user_name text,
        meta jsonb NOT NULL DEFAULT '{}'::jsonb,
        connected_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (account_id, provider)
      )`);
    await q.query(`
      CREATE TABLE repos (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        source text NOT NULL CHECK (source IN ('bitbucket', 'url')),
        source_key text NOT NULL,
        name text NOT NULL,
        clone_url text NOT NULL,
        url_credentials text,
        bitbucket_workspace text,
        bitbucket_slug text,
        bitbucket_uuid text,
        is_private boolean NOT NULL DEFAULT false,
        default_branch text,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'indexing', 'ready', 'failed')),
        webhook_status text NOT NULL DEFAULT 'none' CHECK (webhook_status IN ('none', 'active', 'failed')),
        webhook_error text,
        webhook_uuid text,
        last_indexed_commit text,
        last_indexed_at timestamptz,
        error_code text,
        error_message text,
        progress jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (account_id, source_key)
      )`);
    await q.query(`CREATE INDEX repos_bitbucket_uuid ON repos (bitbucket_uuid) WHERE bitbucket_uuid IS NOT NULL`);
    await q.query(`
      CREATE TABLE webhook_deliveries (
        request_uuid text PRIMARY KEY,
        account_id uuid REFERENCES accounts(id) ON DELETE CASCADE,
        repo_id uuid,
        event_key text NOT NULL,
        outcome text NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX webhook_deliveries_repo ON webhook_deliveries (repo_id, received_at DESC)`);
    await q.query(`
      CREATE TABLE worker_heartbeats (
        task_queue text NOT NULL,
        identity text NOT NULL,
        last_seen_at timestamptz NOT NULL,
        PRIMARY KEY (task_queue, identity)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['worker_heartbeats', 'webhook_deliveries', 'repos', 'provider_installations', 'api_tokens', 'users', 'accounts']) {
      await q.query(`DROP TABLE IF EXISTS ${t}`);
    }
  }
}
