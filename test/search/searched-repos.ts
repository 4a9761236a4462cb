// Repos indexed from local origins in the run's PostgreSQL, pushed to and searched as /v1/search
// searches them, with the statements each search sent: for the tests of what a search keeps
// between searches (scope-cache, file-cache) and when it must read again.
import type { DataSource, EntityManager } from 'typeorm';
import { indexCommit } from '../../src/indexer';
import { closeParsePools } from '../../src/indexer/parse-pool';
import { codeSearch, type CodeSearchAnswer, type SearchRepo } from '../../src/search/code-search';
import { createRepoRow, openTestDb, Origin } from '../indexer/helpers';
import { recording, type Statement } from './recorded-statements';

type SearchOptions = NonNullable<Parameters<typeof codeSearch>[5]>;

export class SearchedRepos {
  readonly repos: SearchRepo[] = [];
  private readonly origins: Origin[] = [];
  private readonly clones: string[] = [];
  private constructor(readonly ds: DataSource) {}

  static async open(): Promise<SearchedRepos> {
    return new SearchedRepos(await openTestDb());
  }

  /** A repo named `name` holding `files`, indexed. */
  async add(name: string, files: Record<string, string>): Promise<void> {
    const id = await createRepoRow(this.ds);
    const origin = new Origin().write(files);
    const head = origin.commit();
    const clone = origin.clone();
    this.repos.push({ id, name });
    this.origins.push(origin);
    this.clones.push(clone);
    await indexCommit(this.ds, { repoId: id, gitDir: clone, commit: head });
  }

  /** Changes repo `i`'s origin, commits, and indexes the new head; returns it. */
  async push(i: number, change: (origin: Origin) => void): Promise<string> {
    change(this.origins[i]);
    this.origins[i].commit();
    const head = Origin.fetch(this.clones[i]);
    await indexCommit(this.ds, { repoId: this.repos[i].id, gitDir: this.clones[i], commit: head });
    return head;
  }

  /** The search over every repo, in `m` (a REPEATABLE READ transaction of its own when not given), with the statements it sent (and their parameters). */
  async search(q: string, opts: SearchOptions = {}, m?: EntityManager): Promise<{ answer: CodeSearchAnswer; statements: string[]; recorded: Statement[] }> {
    const statements: Statement[] = [];
    const run = (em: EntityManager) => codeSearch(recording(em, statements), this.repos, q, 50, 10_000, opts);
    const answer = m ? await run(m) : await this.ds.transaction('REPEATABLE READ', run);
    return { answer, statements: statements.map((s) => s.sql), recorded: statements };
  }

  async close(): Promise<void> {
    await this.ds?.destroy();
    await closeParsePools();
  }
}

/** Each result as repo:path:line. */
export const where = (a: CodeSearchAnswer): string[] => a.results.map((r) => `${r.repo.name}:${r.path}:${r.line}`);
