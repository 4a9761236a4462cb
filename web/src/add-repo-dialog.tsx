// The Add-repo dialog: every repo the picker lists, filtered on workspace/repo as you type, one
// click adds; for owners, "Add every repo in <workspace>" for each workspace the list shows
// (CONTRACT §13); or a pasted git URL (with credentials for a private repo).
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { BitbucketStatusView, PickerView, RepoView, WorkspaceView } from '../../src/shapes';
import { api, ApiError } from './api';
import { ConnectButton } from './bitbucket';
import { FieldError } from './field-error';
import { GitUrlFields, useGitUrlForm } from './git-url';
import { NEEDS_REAUTH, NOT_CONFIGURED } from './messages';
import { Modal } from './modal';
import { Tabs } from './tabs';
import { WorkspaceSyncForm } from './workspaces';

type Source = 'bitbucket' | 'url';

/** What the Bitbucket picker needs to offer whole workspaces: only owners may sync one. */
export interface WorkspaceOffer {
  owner: boolean;
  synced: WorkspaceView[] | null;
  onSynced: (workspace: WorkspaceView, created: boolean) => void;
}

export function AddRepoDialog(props: { status: BitbucketStatusView | null; workspaces: WorkspaceOffer; onAdded: (repo: RepoView) => void; onClose: () => void }) {
  const [source, setSource] = useState<Source>(props.status?.configured === false ? 'url' : 'bitbucket');
  return (
    <Modal title="Add repo" onClose={props.onClose} wide>
      <Tabs
        label="Where the repo comes from"
        idPrefix="add-repo"
        tabs={[
          { key: 'bitbucket', label: 'From Bitbucket' },
          { key: 'url', label: 'Paste a git URL' },
        ]}
        selected={source}
        onSelect={setSource}
      >
        {source === 'bitbucket' ? <BitbucketPicker status={props.status} workspaces={props.workspaces} onAdded={props.onAdded} /> : <UrlForm onAdded={props.onAdded} />}
      </Tabs>
    </Modal>
  );
}

function BitbucketPicker(props: { status: BitbucketStatusView | null; workspaces: WorkspaceOffer; onAdded: (repo: RepoView) => void }) {
  const s = props.status;
  const usable = !!s?.connected && !s.needsReauth;
  const [picker, setPicker] = useState<PickerView | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [filter, setFilter] = useState('');
  const [adding, setAdding] = useState<string | null>(null);
  const [addError, setAddError] = useState<string | null>(null);
  const filterRef = useRef<HTMLInputElement>(null);
  /** The workspace whose "Add every repo" form is open instead of the list. */
  const [wholeWorkspace, setWholeWorkspace] = useState<string | null>(null);
  const lastWholeWorkspace = useRef<string | null>(null);

  const load = () => {
    setError(null);
    api.picker().then(setPicker, (err: ApiError) => setError(err));
  };
  useEffect(() => {
    if (usable) load();
  }, [usable]);
  // The list arrives after the dialog opened: the filter takes the focus then.
  const loaded = picker !== null;
  useEffect(() => {
    if (loaded) filterRef.current?.focus();
  }, [loaded]);

  // The same rule as the API's `q`: a case-insensitive substring of workspace/slug.
  const needle = filter.trim().toLowerCase();
  const shown = useMemo(() => (picker?.repos ?? []).filter((r) => !needle || `${r.workspace}/${r.slug}`.toLowerCase().includes(needle)), [picker, needle]);
  /** The workspaces of the repos shown, in the list's order. */
  const shownWorkspaces = useMemo(() => [...new Set(shown.map((r) => r.workspace))], [shown]);
  // Back from a workspace's form: the focus returns to the button that opened it.
  useEffect(() => {
    if (wholeWorkspace === null && lastWholeWorkspace.current) document.getElementById(workspaceButtonId(lastWholeWorkspace.current))?.focus();
    lastWholeWorkspace.current = wholeWorkspace;
  }, [wholeWorkspace]);

  if (!s) return <p>Loading…</p>;
  if (!s.configured) return <p class="hint">{NOT_CONFIGURED} You can still paste a git URL.</p>;
  if (!s.connected || error?.code === 'not_connected') {
    return (
      <div class="picker-empty">
        <p>Connect Bitbucket to pick repos from every workspace you belong to.</p>
        <ConnectButton status={s} />
      </div>
    );
  }
  if (s.needsReauth || error?.code === 'needs_reauth') {
    return (
      <div class="picker-empty">
        <p>{NEEDS_REAUTH}</p>
        <ConnectButton status={s} label="Reconnect Bitbucket →" />
      </div>
    );
  }
  if (error) {
    return (
      <div class="picker-empty" role="alert">
        <p>{error.message}</p>
        <button type="button" onClick={load}>
          Try again
        </button>
      </div>
    );
  }
  if (!picker) return <p aria-live="polite">Loading your Bitbucket repos…</p>;
  if (picker.repos.length === 0) return <p class="picker-empty">{picker.message ?? 'No repos visible in any of your workspaces'}</p>;

  const add = async (fullName: string) => {
    setAdding(fullName);
    setAddError(null);
    try {
      const { repo } = await api.addRepo({ bitbucket: fullName });
      props.onAdded(repo);
    } catch (err) {
      setAddError((err as Error).message);
      setAdding(null);
    }
  };

  const offer = props.workspaces;
  const syncedOf = (ws: string) => offer.synced?.find((w) => w.workspace === ws) ?? null;
  if (offer.owner && wholeWorkspace !== null) {
    return (
      <WorkspaceSyncForm
        workspace={wholeWorkspace}
        repos={picker.repos.filter((r) => r.workspace === wholeWorkspace)}
        synced={syncedOf(wholeWorkspace)}
        onDone={offer.onSynced}
        onBack={() => setWholeWorkspace(null)}
      />
    );
  }

  return (
    <div class="picker">
      <label for="picker-filter">Filter by workspace/repo</label>
      <input id="picker-filter" ref={filterRef} type="search" data-autofocus autocomplete="off" spellcheck={false} value={filter} onInput={(e) => setFilter(e.currentTarget.value)} placeholder="e.g. acme/api" />
      <p class="hint" aria-live="polite">
        {shown.length === picker.repos.length ? `${picker.repos.length} repos` : `${shown.length} of ${picker.repos.length} repos`}
      </p>
      <FieldError error={addError} />
      {offer.owner && shownWorkspaces.length > 0 && (
        <div class="workspace-actions" role="group" aria-label="Whole workspaces">
          <span class="hint">Or a whole workspace, with the repos created there later:</span>
          {shownWorkspaces.map((ws) => {
            const synced = syncedOf(ws) !== null;
            return (
              <button type="button" key={ws} id={workspaceButtonId(ws)} aria-label={`Add every repo in ${ws}${synced ? ', already synced' : ''}`} onClick={() => setWholeWorkspace(ws)}>
                Add every repo in {ws}
                {synced && <span class="badge badge-added">synced</span>}
              </button>
            );
          })}
        </div>
      )}
      {shown.length === 0 ? (
        <p class="picker-empty">No repo matches “{filter.trim()}”.</p>
      ) : (
        <ul class="picker-list" aria-label="Bitbucket repos">
          {shown.map((r) => (
            <li key={r.uuid}>
              <button
                type="button"
                class="picker-item"
                disabled={r.added || adding !== null}
                aria-label={`${r.fullName}${r.isPrivate ? ', private' : ', public'}${r.added ? ', already added' : ''}`}
                onClick={() => add(r.fullName)}
              >
                <span class="picker-name">{r.fullName}</span>
                <span class="badge">{r.isPrivate ? 'private' : 'public'}</span>
                {r.added && <span class="badge badge-added">added</span>}
                {adding === r.fullName && <span class="badge">adding…</span>}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

const workspaceButtonId = (ws: string) => `add-workspace-${ws}`;

function UrlForm(props: { onAdded: (repo: RepoView) => void }) {
  const form = useGitUrlForm('', async (url) => props.onAdded((await api.addRepo({ url })).repo));
  return (
    <form method="post" class="url-form" onSubmit={form.submit}>
      <p class="hint">Any public repo over https, http or git. For a private one, give a username and a password or access token below.</p>
      <GitUrlFields idPrefix="add-url" value={form.value} onChange={form.setValue} autofocus />
      <FieldError error={form.error} />
      <div class="modal-actions">
        <button type="submit" class="primary" disabled={form.busy}>
          {form.busy ? 'Adding…' : 'Add repo'}
        </button>
      </div>
    </form>
  );
}
