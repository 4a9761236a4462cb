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

export async function findSessionByToken(ds: DataSource, token: string): Promise<Session | null> {
  const apiToken = await ds.getRepository(ApiToken).findOne({ where: { tokenHash: sha256Hex(token) } });
  if (!apiToken) return null;
  const user = await ds.getRepository(User).findOne({ where: { id: apiToken.userId } });
  if (!user) return null;
  const account = await ds.getRepository(Account).findOne({ where: { id: user.accountId } });
  return account ? { user, account } : null;
}

export const present = {
  account: (a: Account) => ({ id: a.id, name: a.name }),
  user: (u: User) => ({ id: u.id, email: u.email, role: u.role }),
};
