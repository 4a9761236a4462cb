// The repo list: name and source (and the synced workspace it came from), status (pending → indexing (n of m files) → ready / failed),
// webhook state with its reason, last indexed commit and time, and the actions that fit the state.
import { useState } from 'preact/hooks';
import type { BitbucketStatusView, RepoView } from '../../src/shapes';
import { api, startBitbucketInstall } from './api';
import { FieldError } from './field-error';
import { GitUrlFields, useGitUrlForm } from './git-url';
import { FIXED_BY_RECONNECT, statusLabel, webhookLabel } from './messages';
import { Confirm, Modal } from './modal';
import { onLinkClick, reposUrl } from './route';
import { Time } from './time';
import { toast, toastError } from './toasts';

export function RepoList(props: { repos: RepoView[]; status: BitbucketStatusView | null; onChanged: (repo?: RepoView) => void; onRemoved: (id: string) => void }) {
  const [deleting, setDeleting] = useState<RepoView | null>(null);
  const [switching, setSwitching] = useState<RepoView | null>(null);
  return (
    <>
      <table class="repos">
        <caption class="visually-hidden">Your repos</caption>
        <thead>
          <tr>
            <th scope="col">Repo</th>
            <th scope="col">Status</th>
            <th scope="col">Webhook</th>
            <th scope="col">Last indexed</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {props.repos.map((r) => (
            <RepoRow key={r.id} repo={r} status={props.status} onChanged={props.onChanged} onDelete={() => setDeleting(r)} onSwitch={() => setSwitching(r)} />
          ))}
        </tbody>
      </table>
      {deleting && (
        <Confirm
          title={`Delete ${deleting.name}?`}
          text={`Lettuce removes ${deleting.name}, its index and its clone${deleting.source === 'bitbucket' ? ', and deletes the webhook it created on Bitbucket' : ''}. You can add it again later.`}
          confirm="Delete repo"
          onConfirm={async () => {
            await api.deleteRepo(deleting.id);
            props.onRemoved(deleting.id);
            toast({ kind: 'success', text: `${deleting.name} deleted` });
          }}
          onClose={() => setDeleting(null)}
        />
      )}
      {switching && <SwitchToUrlDialog repo={switching} onSwitched={(repo) => props.onChanged(repo)} onClose={() => setSwitching(null)} />}
    </>
  );
}

function RepoRow(props: { repo: RepoView; status: BitbucketStatusView | null; onChanged: (repo?: RepoView) => void; onDelete: () => void; onSwitch: () => void }) {
  const r = props.repo;
  const moving = r.status === 'pending' || r.status === 'indexing';
  const reconnectFixes = r.source === 'bitbucket' && r.status === 'failed' && !!r.error && FIXED_BY_RECONNECT.has(r.error.code);
  const reindex = async () => {
    try {
      props.onChanged((await api.reindex(r.id)).repo);
      toast({ kind: 'success', text: `Re-indexing ${r.name}` });
    } catch (err) {
      toastError(err);
    }
  };
  return (
    <tr data-repo={r.name}>
      <th scope="row">
        {r.lastIndexedCommit ? (
          <a href={reposUrl({ repo: r.id })} onClick={(e) => onLinkClick(e, reposUrl({ repo: r.id }))} aria-label={`Open ${r.name} in the navigator`}>
            {r.name}
          </a>
        ) : (
          <span>{r.name}</span>
        )}
        <span class="sub">
          {r.source === 'bitbucket' ? 'Bitbucket' : 'git URL'} · {r.isPrivate ? 'private' : 'public'}
          {r.defaultBranch && <> · {r.defaultBranch}</>}
        </span>
        {r.syncedFrom && <span class="sub synced-from">synced from {r.syncedFrom}</span>}
      </th>
      <td>
        <span class={`status status-${r.status}`} data-status={r.status}>
          {statusLabel(r)}
        </span>
        {r.status === 'indexing' && r.progress && <progress max={r.progress.filesTotal} value={r.progress.filesDone} aria-label={`Indexing ${r.name}`} />}
        {r.status === 'failed' && r.error && <span class="error-text">{r.error.message}</span>}
        {r.status === 'failed' && r.lastIndexedCommit && <span class="sub">Still serving the last good index.</span>}
      </td>
      <td>
        <span class={`webhook webhook-${r.webhook.status}`}>{webhookLabel(r)}</span>
      </td>
      <td class="nowrap">
        {r.lastIndexedCommit && r.lastIndexedAt ? (
          <>
            <code title={r.lastIndexedCommit}>{r.lastIndexedCommit.slice(0, 7)}</code> <Time iso={r.lastIndexedAt} />
          </>
        ) : (
          <span class="sub">not yet</span>
        )}
      </td>
      <td>
        <div class="row-actions">
          {reconnectFixes && props.status?.configured && (
            <button type="button" aria-label={`Reconnect Bitbucket for ${r.name}`} onClick={() => startBitbucketInstall().catch(toastError)}>
              Reconnect →
            </button>
          )}
          {reconnectFixes && r.isPrivate && (
            <button type="button" aria-label={`Use a git URL with credentials for ${r.name}`} onClick={props.onSwitch}>
              Use a git URL…
            </button>
          )}
          {!moving && (
            <button type="button" aria-label={`Re-index ${r.name}`} onClick={reindex}>
              Re-index
            </button>
          )}
          <button type="button" class="danger" aria-label={`Delete ${r.name}`} onClick={props.onDelete}>
            Delete
          </button>
        </div>
      </td>
    </tr>
  );
}

/** PATCH /v1/repos/{id}: the way back for a private Bitbucket repo after a disconnect. */
function SwitchToUrlDialog(props: { repo: RepoView; onSwitched: (repo: RepoView) => void; onClose: () => void }) {
  const form = useGitUrlForm(props.repo.cloneUrl, async (url) => {
    const { repo } = await api.switchToUrl(props.repo.id, url);
    toast({ kind: 'success', text: `${props.repo.name} now clones from its git URL` });
    props.onSwitched(repo);
    props.onClose();
  });
  return (
    <Modal title={`Clone ${props.repo.name} from a git URL`} onClose={props.onClose}>
      <form method="post" onSubmit={form.submit}>
        <p class="hint">Lettuce stops using Bitbucket's authorization for this repo and clones it with these credentials instead.</p>
        <GitUrlFields idPrefix="switch-url" value={form.value} onChange={form.setValue} />
        <FieldError error={form.error} />
        <div class="modal-actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={form.busy}>
            Switch and re-index
          </button>
        </div>
      </form>
    </Modal>
  );
}
