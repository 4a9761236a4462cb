// The Repos page: the connection's banners, then two tabs — Repos (the code search over every
// repo, the list and the Add-repo dialog; a search's results take the list's place) and Bitbucket
// (the connection and the synced workspaces). The lists poll every second
// while a repo is moving or a workspace is syncing.
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { BitbucketStatusView, MeView, RepoView, WorkspaceView } from '../../src/shapes';
import { api } from './api';
import { AddRepoDialog } from './add-repo-dialog';
import { BitbucketPanel, ConnectionBanners } from './bitbucket';
import { AllReposSearch } from './code-search';
import { usePoll } from './poll';
import { RepoList } from './repo-list';
import { navigate, reposUrl } from './route';
import { Tabs } from './tabs';
import { toast } from './toasts';
import { SyncedWorkspaces } from './workspaces';

type Tab = 'repos' | 'bitbucket';

/** After an action the server may take a moment to move the repo: poll fast for this long anyway. */
const WATCH_AFTER_ACTION_MS = 20_000;

export function ReposPage(props: { me: MeView | null; tab: Tab; q: string }) {
  const [status, setStatus] = useState<BitbucketStatusView | null>(null);
  const [repos, setRepos] = useState<RepoView[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);
  const [watchUntil, setWatchUntil] = useState(0);
  const [workspaces, setWorkspaces] = useState<WorkspaceView[] | null>(null);
  const [workspacesError, setWorkspacesError] = useState<string | null>(null);
  const owner = props.me?.user.role === 'owner';

  const loadStatus = useCallback(() => api.bitbucket().then(setStatus), []);
  const loadRepos = useCallback(
    () =>
      api.repos().then(
        (r) => (setRepos(r.repos), setLoadError(null)),
        (err: Error) => setLoadError(`Could not load your repos: ${err.message}`),
      ),
    [],
  );
  const loadWorkspaces = useCallback(
    () =>
      api.workspaces().then(
        (w) => (setWorkspaces(w.workspaces), setWorkspacesError(null)),
        (err: Error) => setWorkspacesError(`Could not load the synced workspaces: ${err.message}`),
      ),
    [],
  );
  useEffect(() => {
    void loadStatus().catch(() => {});
    void loadRepos();
    void loadWorkspaces();
  }, []);

  const watching = Date.now() < watchUntil;
  const syncing = !!workspaces?.some((w) => w.status === 'syncing');
  const moving = repos?.some((r) => r.status === 'pending' || r.status === 'indexing') || syncing || watching;
  usePoll(loadRepos, moving ? 1_000 : 5_000);
  usePoll(loadStatus, 5_000);
  // A synced workspace is listed again now and then: a slow poll shows it when it starts syncing anew.
  usePoll(loadWorkspaces, syncing || watching ? 1_000 : 15_000);

  const watch = () => setWatchUntil(Date.now() + WATCH_AFTER_ACTION_MS);
  const upsert = (repo?: RepoView) => {
    if (repo) setRepos((list) => (list?.some((r) => r.id === repo.id) ? list.map((r) => (r.id === repo.id ? repo : r)) : [...(list ?? []), repo]));
    watch();
  };

  return (
    <main class="page">
      <h1>Repos</h1>
      <ConnectionBanners status={status} />
      <Tabs
        label="Repos page"
        idPrefix="repos-page"
        tabs={[
          { key: 'repos', label: 'Repos' },
          { key: 'bitbucket', label: 'Bitbucket' },
        ]}
        selected={props.tab}
        onSelect={(tab) => navigate(reposUrl({ tab: tab === 'repos' ? null : tab }), { replace: true })}
      >
        {props.tab === 'repos' ? (
          <>
            <div class="toolbar">
              <button type="button" class="primary" onClick={() => setAdding(true)}>
                Add repo
              </button>
            </div>
            <AllReposSearch q={props.q} />
            {!props.q && (
              <>
                {loadError && (
                  <p class="banner banner-error" role="alert">
                    {loadError}
                  </p>
                )}
                {repos === null ? (
                  <p>Loading your repos…</p>
                ) : repos.length === 0 ? (
                  <p class="empty">No repos yet. Add one from Bitbucket, or paste a git URL.</p>
                ) : (
                  <RepoList repos={repos} status={status} onChanged={upsert} onRemoved={(id) => setRepos((list) => list?.filter((r) => r.id !== id) ?? null)} />
                )}
              </>
            )}
          </>
        ) : (
          <BitbucketPanel
            status={status}
            me={props.me}
            onChanged={() => void loadStatus().catch(() => {})}
            workspaces={
              <SyncedWorkspaces
                workspaces={workspaces}
                error={workspacesError}
                owner={owner}
                connected={!!status?.connected}
                onStopped={async (ws) => {
                  setWorkspaces((list) => list?.filter((w) => w.workspace !== ws) ?? null);
                  toast({ kind: 'success', text: `${ws} no longer syncs; its repos stay` });
                  await loadRepos();
                }}
              />
            }
          />
        )}
      </Tabs>
      {adding && (
        <AddRepoDialog
          status={status}
          workspaces={{
            owner,
            synced: workspaces,
            onSynced: (workspace, created) => {
              setAdding(false);
              setWorkspaces((list) => [...(list ?? []).filter((w) => w.workspace !== workspace.workspace), workspace].sort((a, b) => a.workspace.localeCompare(b.workspace)));
              watch();
              toast({ kind: 'success', text: created ? `Adding every repo in ${workspace.workspace}: follow it on the Bitbucket tab` : `Exclusions of ${workspace.workspace} saved` });
            },
          }}
          onAdded={(repo) => {
            setAdding(false);
            upsert(repo);
            toast({ kind: 'success', text: `Adding ${repo.name}` });
          }}
          onClose={() => setAdding(false)}
        />
      )}
    </main>
  );
}
