// Whole workspaces (CONTRACT §13): the Add-repo dialog's "Add every repo in <workspace>" form
// (owners), and the Bitbucket tab's list of synced workspaces with their progress, webhook state
// and "Stop syncing" (owners).
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { PickableRepoView, WorkspaceView } from '../../src/shapes';
import { api, ApiError } from './api';
import { FieldError } from './field-error';
import { excluder, MAX_EXCLUDE_PATTERNS, OWNER_ONLY_WORKSPACES, parseExcludes, workspaceErrorText, workspaceProgress, workspaceWebhookLabel } from './messages';
import { Confirm } from './modal';
import { Time } from './time';

/** "a, b and 3 more" */
function someOf(names: string[], max = 4): string {
  if (names.length <= max) return names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}` : (names[0] ?? '');
  return `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

/**
 * Sync one workspace: its exclude patterns (comma- or newline-separated globs), a preview of what
 * they leave out among the repos the picker lists, then the POST. For a workspace already synced
 * the same form changes its patterns.
 */
export function WorkspaceSyncForm(props: {
  workspace: string;
  repos: PickableRepoView[];
  synced: WorkspaceView | null;
  onDone: (workspace: WorkspaceView, created: boolean) => void;
  onBack: () => void;
}) {
  const ws = props.workspace;
  const [text, setText] = useState(props.synced?.exclude.join('\n') ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const fieldRef = useRef<HTMLTextAreaElement>(null);
  useEffect(() => fieldRef.current?.focus(), []);

  const patterns = parseExcludes(text);
  const left = useMemo(() => {
    const out = excluder(patterns);
    return props.repos.filter((r) => out(r.slug)).map((r) => r.slug);
  }, [patterns.join('\n'), props.repos]);
  const kept = props.repos.length - left.length;

  const submit = async (e: Event) => {
    e.preventDefault();
    if (patterns.length > MAX_EXCLUDE_PATTERNS) return setError(`At most ${MAX_EXCLUDE_PATTERNS} exclude patterns.`);
    setBusy(true);
    setError(null);
    try {
      const { workspace } = await api.syncWorkspace({ workspace: ws, exclude: patterns });
      props.onDone(workspace, !props.synced);
    } catch (err) {
      setError(err instanceof ApiError ? workspaceErrorText(ws, err) : (err as Error).message);
      setBusy(false);
    }
  };

  return (
    <form method="post" class="workspace-form" aria-labelledby="workspace-form-title" onSubmit={submit}>
      <h3 id="workspace-form-title">{props.synced ? `Every repo in ${ws} is synced` : `Add every repo in ${ws}`}</h3>
      <p class="hint">
        Lettuce adds every repo of {ws} you can contribute to, and the ones created there later, by itself. When the connected Bitbucket user is an admin of the workspace, one workspace webhook
        covers them all; otherwise each repo gets its own.
      </p>
      <label for="workspace-exclude">Leave out repos matching (optional)</label>
      <textarea
        id="workspace-exclude"
        ref={fieldRef}
        rows={3}
        autocomplete="off"
        spellcheck={false}
        placeholder="legacy-*, *-archive"
        aria-describedby="workspace-exclude-hint workspace-preview"
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
      />
      <p id="workspace-exclude-hint" class="hint">
        Patterns on the repo slug, separated by commas or new lines: <code>*</code> is any run of characters, <code>?</code> one character; case does not matter.
      </p>
      <p id="workspace-preview" class="workspace-preview" aria-live="polite">
        {props.repos.length === 0
          ? `No repo of ${ws} is listed for you yet.`
          : left.length === 0
            ? `${props.repos.length === 1 ? 'The one repo' : `All ${props.repos.length} repos`} of ${ws} listed for you now.`
            : `${kept} of the ${props.repos.length} repos of ${ws} listed for you now: leaves out ${someOf(left)}.`}
        {props.synced && ' Repos you leave out now stay as ordinary repos.'}
      </p>
      <FieldError error={error} />
      <div class="modal-actions">
        <button type="button" onClick={props.onBack}>
          Back to the list
        </button>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Adding…' : props.synced ? 'Save exclusions' : `Add every repo in ${ws}`}
        </button>
      </div>
    </form>
  );
}

const STATUS_CLASS: Record<WorkspaceView['status'], string> = { syncing: 'indexing', synced: 'ready', failed: 'failed' };

/** The Bitbucket tab's synced workspaces. */
export function SyncedWorkspaces(props: {
  workspaces: WorkspaceView[] | null;
  error: string | null;
  owner: boolean;
  /** Without a connection, the section shows only workspaces synced before. */
  connected: boolean;
  onStopped: (workspace: string) => Promise<void> | void;
}) {
  const [stopping, setStopping] = useState<WorkspaceView | null>(null);
  const list = props.workspaces;
  if (!props.connected && !props.error && !list?.length) return null;
  return (
    <section class="workspaces-section" aria-labelledby="synced-workspaces-title">
      <h2 id="synced-workspaces-title">Synced workspaces</h2>
      {props.error && (
        <p class="banner banner-error" role="alert">
          {props.error}
        </p>
      )}
      {list === null ? (
        !props.error && <p>Loading the synced workspaces…</p>
      ) : list.length === 0 ? (
        <p class="hint">
          {props.owner
            ? 'None yet. To add every repo of a workspace, and the repos created there later, open Add repo on the Repos tab and choose “Add every repo in …”.'
            : 'None. An owner of the account can sync a whole workspace from the Add-repo dialog.'}
        </p>
      ) : (
        <>
          <table class="workspaces">
            <caption class="visually-hidden">Synced Bitbucket workspaces</caption>
            <thead>
              <tr>
                <th scope="col">Workspace</th>
                <th scope="col">Repos</th>
                <th scope="col">Status</th>
                <th scope="col">Webhook</th>
                <th scope="col">Last synced</th>
                {props.owner && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {list.map((w) => (
                <WorkspaceRow key={w.workspace} workspace={w} owner={props.owner} onStop={() => setStopping(w)} />
              ))}
            </tbody>
          </table>
          {!props.owner && <p class="hint">{OWNER_ONLY_WORKSPACES}</p>}
        </>
      )}
      {stopping && (
        <Confirm
          title={`Stop syncing ${stopping.workspace}?`}
          text={`Repos created in ${stopping.workspace} from now on are no longer added. Its ${stopping.repos.total} repos stay as ordinary repos, indexed and refreshed on push${
            stopping.webhook.scope === 'workspace' ? ': Lettuce deletes the workspace webhook and gives each repo a webhook of its own again' : ''
          }. You can delete them one by one on the Repos tab.`}
          confirm="Stop syncing"
          onConfirm={async () => {
            await api.stopWorkspace(stopping.workspace);
            await props.onStopped(stopping.workspace);
          }}
          onClose={() => setStopping(null)}
        />
      )}
    </section>
  );
}

function WorkspaceRow(props: { workspace: WorkspaceView; owner: boolean; onStop: () => void }) {
  const w = props.workspace;
  const moving = w.repos.pending + w.repos.indexing;
  return (
    <tr data-workspace={w.workspace}>
      <th scope="row">
        <span>{w.name || w.workspace}</span>
        <span class="sub">{w.name && w.name !== w.workspace ? w.workspace : 'Bitbucket workspace'}</span>
        {w.exclude.length > 0 && (
          <span class="sub">
            leaves out{' '}
            {w.exclude.flatMap((p, i) => [i > 0 ? ', ' : null, <code key={p}>{p}</code>])}
          </span>
        )}
      </th>
      <td>
        <span class="workspace-progress">{workspaceProgress(w)}</span>
        {w.status === 'syncing' && w.repos.total > 0 && <progress max={w.repos.total} value={w.repos.ready + w.repos.failed} aria-label={`Syncing ${w.workspace}`} />}
        {moving > 0 && (
          <span class="sub">
            {[w.repos.indexing > 0 && `${w.repos.indexing} indexing`, w.repos.pending > 0 && `${w.repos.pending} pending`].filter(Boolean).join(', ')}
          </span>
        )}
      </td>
      <td>
        <span class={`status status-${STATUS_CLASS[w.status]}`} data-status={w.status}>
          {w.status}
        </span>
        {w.error && <span class="error-text">{w.error.message}</span>}
      </td>
      <td>
        <span class={`webhook webhook-${w.webhook.status}`}>{workspaceWebhookLabel(w)}</span>
      </td>
      <td class="nowrap">{w.lastSyncedAt ? <Time iso={w.lastSyncedAt} /> : <span class="sub">not yet</span>}</td>
      {props.owner && (
        <td>
          <button type="button" class="danger" aria-label={`Stop syncing ${w.workspace}`} onClick={props.onStop}>
            Stop syncing
          </button>
        </td>
      )}
    </tr>
  );
}
