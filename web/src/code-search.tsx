// Code search (CONTRACT §14) as the UI shows it, on the Repos page (every repo) and in the
// navigator (one repo): the query language's hint, the results grouped by repo and then by file —
// a file-name match on the file's own heading, each matching line with its number and the matches
// marked from the server's offsets — and the stats. Every result is a link that opens the file in
// the navigator at its line (a file-name match at the top of the file).
import { Fragment, type ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useState } from 'preact/hooks';
import type { CodeSearchResultView, CodeSearchStatsView, CodeSearchView } from '../../src/shapes';
import { api, type ApiError } from './api';
import { FieldError } from './field-error';
import { highlightPieces } from './highlight';
import { navigate, onLinkClick, reposUrl } from './route';

/** The words of the query language, each with what it does (shown on hover and to screen readers). */
const SYNTAX: Array<{ example: string; what: string; allRepos?: true }> = [
  { example: '/regex/', what: 'a regular expression (RE2)' },
  { example: 'case:yes', what: 'match the case' },
  { example: 'file:\\.ts$', what: 'only paths matching a regular expression' },
  { example: '-file:test', what: 'leave out paths matching a regular expression' },
  { example: 'lang:go', what: 'only files in one language' },
  { example: 'repo:api', what: 'only repos whose name matches', allRepos: true },
  { example: 'sym:Name', what: 'where a symbol with that name is defined' },
  { example: '"…"', what: 'the text between the quotes, as it is' },
];

/** The short syntax hint under a search box (the box names it with aria-describedby). */
export function SyntaxHint(props: { id: string; allRepos?: boolean }) {
  const words = SYNTAX.filter((s) => props.allRepos || !s.allRepos);
  return (
    <p class="hint syntax-hint" id={props.id}>
      Text, any case. Also:{' '}
      {words.map((s, i) => (
        <Fragment key={s.example}>
          <span class="syntax-word" title={s.what}>
            <code>{s.example}</code>
            <span class="visually-hidden"> {s.what}</span>
          </span>
          {i < words.length - 1 ? ' ' : ''}
        </Fragment>
      ))}
    </p>
  );
}

/** The preview with the server's matches (1-based code points, end exclusive) in <mark>. */
export function Marked(props: { text: string; matches: Array<[number, number]> }) {
  return <code>{highlightPieces(props.text, props.matches).map((p, i) => (p.mark ? <mark key={i}>{p.text}</mark> : p.text))}</code>;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en')} ${n === 1 ? one : many}`;

interface FileGroup {
  path: string;
  /** The file-name match (`line` 0), if the path matched. */
  name: CodeSearchResultView | null;
  lines: CodeSearchResultView[];
}
interface RepoGroup {
  repo: { id: string; name: string };
  files: FileGroup[];
}

/** Results by repo, then by file, each group where its first result ranks (the server's order kept inside). */
export function groupResults(results: CodeSearchResultView[]): RepoGroup[] {
  const repos = new Map<string, RepoGroup & { byPath: Map<string, FileGroup> }>();
  for (const r of results) {
    let repo = repos.get(r.repo.id);
    if (!repo) repos.set(r.repo.id, (repo = { repo: r.repo, files: [], byPath: new Map() }));
    let file = repo.byPath.get(r.path);
    if (!file) {
      file = { path: r.path, name: null, lines: [] };
      repo.byPath.set(r.path, file);
      repo.files.push(file);
    }
    if (r.line === 0) file.name ??= r;
    else if (!file.lines.some((l) => l.line === r.line)) file.lines.push(r); // a definition is also a matching line: once
  }
  return [...repos.values()].map(({ repo, files }) => ({ repo, files }));
}

/** What was found and what was searched, in one line. */
export function statsLine(results: CodeSearchResultView[], stats: CodeSearchStatsView, allRepos: boolean): string {
  const groups = groupResults(results);
  const files = groups.reduce((n, g) => n + g.files.length, 0);
  const where = results.length === 0 ? 'Nothing found' : allRepos ? `In ${plural(groups.length, 'repo')}, ${plural(files, 'file')}` : `In ${plural(files, 'file')}`;
  const searched = allRepos ? `${plural(stats.files, 'file')} of ${plural(stats.repos, 'repo')} searched` : `${plural(stats.files, 'file')} searched`;
  return `${where} · ${searched}`;
}

/**
 * The results of one search: a heading saying how many (announced as it changes), the stats, a
 * warning when some were left out, and the groups. `fileUrl` says where a result opens; `onOpen`
 * runs when one is opened in place.
 */
export function CodeSearchResults(props: {
  q: string;
  results: CodeSearchResultView[];
  stats: CodeSearchStatsView;
  allRepos: boolean;
  onOpen?: () => void;
  actions?: ComponentChildren;
}) {
  const { results, stats, allRepos } = props;
  const groups = groupResults(results);
  const link = (url: string) => ({ href: url, onClick: (e: MouseEvent) => (onLinkClick(e, url), e.defaultPrevented && props.onOpen?.()) });
  const fileUrl = (repoId: string, path: string, line?: number) => reposUrl({ repo: repoId, path, line });
  // Under a repo's heading (every repo) or right under the results' heading (one repo).
  const FileHeading = allRepos ? 'h4' : 'h3';
  return (
    <div class="results code-results">
      <div class="results-head">
        <div>
          <h2 aria-live="polite">
            {results.length === 0 ? 'No' : results.length.toLocaleString('en')} {results.length === 1 ? 'result' : 'results'} for “{props.q}”
          </h2>
          <p class="sub search-stats">{statsLine(results, stats, allRepos)}</p>
        </div>
        {props.actions}
      </div>
      {stats.truncated && (
        <p class="banner banner-warning truncated">
          More results were left out (the limit or the time was reached): narrow the query with <code>file:</code>, <code>lang:</code>
          {allRepos && (
            <>
              , <code>repo:</code>
            </>
          )}{' '}
          or a longer text.
        </p>
      )}
      {groups.map((g) => {
        const files = g.files.map((f) => (
          <div class="result-file" data-path={f.path} key={f.path}>
            <FileHeading class="result-file-path">
              <a {...link(fileUrl(g.repo.id, f.path))}>{f.name ? <Marked text={f.name.preview} matches={f.name.matches} /> : <code>{f.path}</code>}</a>
              {f.name && <span class="badge badge-name">file name matches</span>}
            </FileHeading>
            {f.lines.length > 0 && (
              <ol class="result-lines">
                {f.lines.map((l) => (
                  <li key={l.line}>
                    <a {...link(fileUrl(g.repo.id, f.path, l.line))}>
                      <span class="visually-hidden">
                        {f.path}:{l.line}{' '}
                      </span>
                      <span class="ln" aria-hidden="true">
                        {l.line}
                      </span>
                      <Marked text={l.preview} matches={l.matches} />
                    </a>
                  </li>
                ))}
              </ol>
            )}
          </div>
        ));
        if (!allRepos) return <div key={g.repo.id}>{files}</div>;
        const headingId = `results-repo-${g.repo.id}`;
        return (
          <section class="result-repo" data-repo={g.repo.name} aria-labelledby={headingId} key={g.repo.id}>
            <h3 id={headingId} class="result-repo-name">
              <a {...link(reposUrl({ repo: g.repo.id }))}>{g.repo.name}</a>
              <span class="sub">{plural(g.files.reduce((n, f) => n + (f.name ? 1 : 0) + f.lines.length, 0), 'result')}</span>
            </h3>
            {files}
          </section>
        );
      })}
    </div>
  );
}

/** Why a search failed, in words: an invalid query's own message, else what happened. */
export function searchError(err: ApiError): string {
  return err.code === 'invalid_query' ? err.message : `Could not search: ${err.message}`;
}

/**
 * The Repos page's search over every repo (GET /v1/search). The query lives in the address bar
 * (`/repos?q=…`), as the rest of the UI's place does: Back returns to it, a reload runs it again.
 * Searching the same query again runs it again; an empty box clears the search.
 */
export function AllReposSearch(props: { q: string }) {
  const { q } = props;
  const [text, setText] = useState(q);
  const [attempt, setAttempt] = useState(0);
  const [answer, setAnswer] = useState<{ q: string; view: CodeSearchView } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // Back, Forward and Clear change the query under the box: the box follows, before the page is painted.
  useLayoutEffect(() => setText(q), [q]);
  useEffect(() => {
    setError(null);
    if (!q) {
      setAnswer(null);
      setBusy(false);
      return;
    }
    let current = true;
    setBusy(true);
    api.searchAll(q).then(
      (view) => {
        if (!current) return;
        setAnswer({ q, view });
        setBusy(false);
      },
      (err: ApiError) => {
        if (!current) return;
        setAnswer(null);
        setError(searchError(err));
        setBusy(false);
      },
    );
    return () => void (current = false);
  }, [q, attempt]);

  const clear = () => navigate(reposUrl());
  const clearButton = (
    <button type="button" onClick={clear}>
      Clear search
    </button>
  );
  return (
    <>
      <form
        method="get"
        action="/repos"
        class="search-form all-repos-search"
        role="search"
        aria-label="Code in every repo"
        onSubmit={(e) => {
          e.preventDefault();
          if (!text.trim()) return q ? clear() : undefined;
          if (text === q) setAttempt((n) => n + 1);
          else navigate(reposUrl({ q: text }));
        }}
      >
        <label for="search-all">Search code in every repo</label>
        <div class="inline">
          <input
            id="search-all"
            name="q"
            type="search"
            value={text}
            maxLength={1000}
            placeholder="Text or /regex/, with filters"
            autocomplete="off"
            spellcheck={false}
            aria-describedby="search-all-syntax"
            aria-invalid={error ? true : undefined}
            onInput={(e) => setText(e.currentTarget.value)}
          />
          <button type="submit">Search</button>
        </div>
        <SyntaxHint id="search-all-syntax" allRepos />
        <FieldError error={error} />
      </form>
      {q &&
        (busy ? (
          <p class="sub searching" role="status">
            Searching every repo for “{q}”…
          </p>
        ) : answer ? (
          <CodeSearchResults q={answer.q} results={answer.view.results} stats={answer.view.stats} allRepos actions={clearButton} />
        ) : (
          <div class="toolbar">{clearButton}</div>
        ))}
    </>
  );
}
