// Accounts, their users and API tokens. Creating an account also creates its owner, its first
// API token (returned once, stored as a hash) and its webhook secret (sealed).
import type { DataSource, EntityManager } from 'typeorm';
import { Account, ApiToken, User } from '../db/entities';
import type { UserRole } from '../db/entities/user';
import { SecretBox } from '../security/secret-box';
import { newApiToken, randomSecret, sha256Hex } from '../security/tokens';

export interface Session {
  user: User;
  account: Account;
}

export class EmailTakenError extends Error {
  override name = 'EmailTakenError';
}

async function insertUserWithToken(m: EntityManager, accountId: string, email: string, role: UserRole) {
  const clash = await m
    .createQueryBuilder(User, 'u')
    .where('u.account_id = :accountId AND lower(u.email) = lower(:email)', { accountId, email })
    .getOne();
  if (clash) throw new EmailTakenError(`${email} is already a user of this account.`);
  const user = await m.save(m.create(User, { accountId, email, role }));
  const token = newApiToken();
  await m.save(m.create(ApiToken, { userId: user.id, tokenHash: sha256Hex(token) }));
  return { user, token };
}

export async function createAccount(ds: DataSource, box: SecretBox, input: { name: string; ownerEmail: string }) {
  return ds.transaction(async (m) => {
    const account = await m.save(m.create(Account, { name: input.name, webhookSecret: box.seal(randomSecret(32)) }));
    const { user, token } = await insertUserWithToken(m, account.id, input.ownerEmail, 'owner');
    return { account, user, token };
  });
}

export async function addUser(ds: DataSource, accountId: string, input: { email: string; role: UserRole }) {
  return ds.transaction(async (m) => {
    const account = await m.findOne(Account, { where: { id: accountId } });
    if (!account) return null;
    return insertUserWithToken(m, account.id, input.email, input.role);
  });
}

/** The token's user and account, in one statement: every authenticated request pays for it. */
export async function findSessionByToken(ds: DataSource, token: string): Promise<Session | null> {
  const rows: Array<{ user_id: string; account_id: string; email: string; role: UserRole; user_created_at: Date; name: string; webhook_secret: string; account_created_at: Date }> = await ds.query(
    `SELECT u.id AS user_id, u.account_id, u.email, u.role, u.created_at AS user_created_at, a.name, a.webhook_secret, a.created_at AS account_created_at
       FROM api_tokens t JOIN users u ON u.id = t.user_id JOIN accounts a ON a.id = u.account_id
      WHERE t.token_hash = $1`,
    [sha256Hex(token)],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    user: ds.getRepository(User).create({ id: row.user_id, accountId: row.account_id, email: row.email, role: row.role, createdAt: row.user_created_at }),
    account: ds.getRepository(Account).create({ id: row.account_id, name: row.name, webhookSecret: row.webhook_secret, createdAt: row.account_created_at }),
  };
}

export const present = {
  account: (a: Account) => ({ id: a.id, name: a.name }),
  user: (u: User) => ({ id: u.id, email: u.email, role: u.role }),
};
