// The navigator of one repo's last indexed commit (CONTRACT §7): the tree, a file with line
// numbers, code search in the query language of §14 (results by file, the matches marked from the
// server's offsets), and symbol search. Results and symbols open the file at their line (a
// file-name match at its top); the line is scrolled to, marked and given the focus.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { FileView, RepoCodeSearchView, RepoView, SymbolsView, TreeEntryView } from '../../src/shapes';
import { CodeSearchResults, searchError, SyntaxHint } from './code-search';
import { FieldError } from './field-error';
import { api, ApiError } from './api';
import { usePoll } from './poll';
import { onLinkClick, reposUrl } from './route';

type Results = { kind: 'search'; q: string; view: RepoCodeSearchView } | { kind: 'symbols'; q: string; view: SymbolsView };

export function Navigator(props: { repoId: string; params: URLSearchParams }) {
  const { repoId, params } = props;
  const path = params.get('path');
  const line = Number(params.get('line')) || null;
  const [repo, setRepo] = useState<RepoView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [results, setResults] = useState<Results | null>(null);

  const loadRepo = () =>
    api.repo(repoId).then(
      (r) => (setRepo(r.repo), setError(null)),
      (err: ApiError) => setError(err.code === 'not_found' ? 'No such repo: it may have been deleted.' : err.message),
    );
  useEffect(() => void loadRepo(), [repoId]);
  // A push re-indexes the repo: the tree and the open file follow the new commit by themselves.
  usePoll(loadRepo, 5_000);
  const commit = repo?.lastIndexedCommit ?? '';
  // Opening a file (from the tree or a result) shows it instead of the results.
  useEffect(() => setResults(null), [path, line]);

  const fileUrl = (p: string, l?: number) => reposUrl({ repo: repoId, path: p, line: l });
  return (
    <main class="page navigator">
      <p>
        <a href="/repos" onClick={(e) => onLinkClick(e, '/repos')}>
          ← All repos
        </a>
      </p>
      <h1>{repo?.name ?? 'Repo'}</h1>
      {repo?.lastIndexedCommit && (
        <p class="sub">
          Index of <code>{repo.lastIndexedCommit.slice(0, 12)}</code>
          {repo.defaultBranch && <> on {repo.defaultBranch}</>}
        </p>
      )}
      {error && (
        <p class="banner banner-error" role="alert">
          {error}
        </p>
      )}
      {!repo ? (
        !error && <p>Loading…</p>
      ) : !commit ? (
        <p class="empty">Not indexed yet: Lettuce is cloning and indexing this repo ({repo.status}).</p>
      ) : (
        <div class="nav-layout">
          <aside class="nav-side">
            <SearchForm
              id="code-search"
              label="Search code"
              button="Search"
              hint="Text or /regex/, with filters"
              maxLength={1000}
              syntax={<SyntaxHint id="code-search-syntax" />}
              describeError={searchError}
              onSearch={async (q) => setResults({ kind: 'search', q, view: await api.search(repoId, q) })}
            />
            <SearchForm id="symbol-search" label="Find symbol" button="Find" hint="Start of a name" onSearch={async (q) => setResults({ kind: 'symbols', q, view: await api.symbols(repoId, q) })} />
            <nav aria-label="Files">
              <h2 class="side-title">Files</h2>
              <Tree key={commit} repoId={repoId} dir="" selected={path} fileUrl={fileUrl} />
            </nav>
          </aside>
          <section class="nav-main" aria-label="Content">
            {results ? (
              <ResultList results={results} fileUrl={fileUrl} onOpen={() => setResults(null)} />
            ) : path ? (
              <FilePane key={commit} repoId={repoId} path={path} line={line} />
            ) : (
              <p class="empty">Pick a file, or search the code.</p>
            )}
          </section>
        </div>
      )}
    </main>
  );
}

function SearchForm(props: {
  id: string;
  label: string;
  button: string;
  hint: string;
  maxLength?: number;
  /** The query language's hint under the box (its id is `${id}-syntax`). */
  syntax?: ComponentChildren;
  describeError?: (err: ApiError) => string;
  onSearch: (q: string) => Promise<void>;
}) {
  const [q, setQ] = useState('');
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      method="post"
      class="search-form"
      role="search"
      onSubmit={async (e) => {
        e.preventDefault();
        if (!q.trim()) return;
        setError(null);
        await props.onSearch(q).catch((err: ApiError) => setError(props.describeError?.(err) ?? err.message));
      }}
    >
      <label for={props.id}>{props.label}</label>
      <div class="inline">
        <input
          id={props.id}
          type="search"
          value={q}
          placeholder={props.hint}
          maxLength={props.maxLength}
          autocomplete="off"
          spellcheck={false}
          aria-describedby={props.syntax ? `${props.id}-syntax` : undefined}
          aria-invalid={error ? true : undefined}
          onInput={(e) => setQ(e.currentTarget.value)}
        />
        <button type="submit">{props.button}</button>
      </div>
      {props.syntax}
      <FieldError error={error} />
    </form>
  );
}

function Tree(props: { repoId: string; dir: string; selected: string | null; fileUrl: (p: string) => string }) {
  const [entries, setEntries] = useState<TreeEntryView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<Set<string>>(() => new Set());
  useEffect(() => {
    api.tree(props.repoId, props.dir).then(
      (t) => setEntries(t.entries),
      (err: ApiError) => setError(err.code === 'not_indexed' ? 'Not indexed yet: Lettuce is cloning and indexing this repo.' : err.message),
    );
  }, [props.repoId, props.dir]);
  if (error) return <p class="field-error">{error}</p>;
  if (!entries) return <p class="sub">Loading…</p>;
  const toggle = (p: string) => setOpen((s) => (s.has(p) ? (s.delete(p), new Set(s)) : new Set(s.add(p))));
  return (
    <ul class="tree">
      {entries.map((e) => (
        <li key={e.path}>
          {e.type === 'dir' ? (
            <>
              <button type="button" class="tree-dir" aria-expanded={open.has(e.path)} onClick={() => toggle(e.path)}>
                {e.name}/
              </button>
              {open.has(e.path) && <Tree repoId={props.repoId} dir={e.path} selected={props.selected} fileUrl={props.fileUrl} />}
            </>
          ) : (
            <a class="tree-file" href={props.fileUrl(e.path)} aria-current={props.selected === e.path ? 'page' : undefined} onClick={(ev) => onLinkClick(ev, props.fileUrl(e.path))}>
              {e.name}
            </a>
          )}
        </li>
      ))}
    </ul>
  );
}

function FilePane(props: { repoId: string; path: string; line: number | null }) {
  const [file, setFile] = useState<FileView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const target = useRef<HTMLLIElement>(null);
  useEffect(() => {
    setFile(null);
    setError(null);
    api.file(props.repoId, props.path).then(setFile, (err: ApiError) =>
      setError(err.code === 'not_found' ? `${props.path} is not a text file of this index (binary, too large, or gone).` : err.message),
    );
  }, [props.repoId, props.path]);
  // The line asked for: in the middle of the view, marked, and focused (a keyboard user goes on from there).
  useEffect(() => {
    target.current?.scrollIntoView({ block: 'center' });
    target.current?.focus({ preventScroll: true });
  }, [file, props.line]);
  if (error) return <p class="field-error">{error}</p>;
  if (!file) return <p class="sub">Loading {props.path}…</p>;
  const lines = file.content.split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return (
    <article class="file" aria-label={file.path}>
      <h2 class="file-path">
        {file.path} <span class="sub">{[file.language, `${lines.length} lines`].filter(Boolean).join(' · ')}</span>
      </h2>
      <ol class="code">
        {lines.map((text, i) => (
          <li
            key={i}
            id={`L${i + 1}`}
            ref={props.line === i + 1 ? target : undefined}
            class={props.line === i + 1 ? 'target' : undefined}
            tabIndex={props.line === i + 1 ? -1 : undefined}
            aria-current={props.line === i + 1 ? 'location' : undefined}
          >
            <span class="ln" aria-hidden="true">
              {i + 1}
            </span>
            <code>{text || ' '}</code>
          </li>
        ))}
      </ol>
    </article>
  );
}

function ResultList(props: { results: Results; fileUrl: (p: string, l?: number) => string; onOpen: () => void }) {
  const { results: r, fileUrl } = props;
  if (r.kind === 'search') return <CodeSearchResults q={r.q} results={r.view.results} stats={r.view.stats} allRepos={false} onOpen={props.onOpen} />;
  const items = r.view.symbols;
  return (
    <div class="results">
      <h2 aria-live="polite">
        {items.length === 0 ? 'No' : items.length} {items.length === 1 ? 'symbol' : 'symbols'} for “{r.q}”
      </h2>
      <ul>
        {items.map((s) => (
          <li key={`${s.path}:${s.line}:${s.name}`}>
            <a href={fileUrl(s.path, s.line)} onClick={(e) => (onLinkClick(e, fileUrl(s.path, s.line)), e.defaultPrevented && props.onOpen())}>
              <span class="result-where">
                {s.path}:{s.line}
              </span>
              <span class="result-body">
                <span class="badge">{s.kind}</span> <Prefixed text={s.name} prefix={r.q} />
              </span>
            </a>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** A symbol's name with the prefix it was found by (any case) in <mark>. */
function Prefixed(props: { text: string; prefix: string }) {
  const n = props.prefix.trim().length;
  const found = n > 0 && props.text.slice(0, n).toLowerCase() === props.prefix.trim().toLowerCase();
  return (
    <code>
      {found ? <mark>{props.text.slice(0, n)}</mark> : null}
      {found ? props.text.slice(n) : props.text}
    </code>
  );
}
