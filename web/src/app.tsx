// The UI's shell: the OAuth callback's notice, sign-in or the signed-in pages, and the toasts.
import { useEffect, useState } from 'preact/hooks';
import type { MeView } from '../../src/shapes';
import { api, whenUnauthorized } from './api';
import { CALLBACK_PARAMS, callbackNotice } from './messages';
import { Navigator } from './navigator';
import { ReposPage } from './repos-page';
import { navigate, useLocation } from './route';
import { session } from './session';
import { SignIn } from './sign-in';
import { toast, Toasts } from './toasts';

/**
 * The callback's `?bitbucket=…` / `?bitbucket_error=…` becomes a toast and leaves the address bar
 * at once (CONTRACT §12), before anything else renders: a reload or a shared link does not repeat it.
 */
function takeCallbackNotice(): void {
  const url = new URL(window.location.href);
  const notice = callbackNotice(url.searchParams);
  if (!CALLBACK_PARAMS.some((p) => url.searchParams.has(p))) return;
  for (const p of CALLBACK_PARAMS) url.searchParams.delete(p);
  history.replaceState(null, '', url.pathname + url.search + url.hash);
  if (notice) toast(notice);
}
takeCallbackNotice();

/** Where a signed-out visitor was going: sign-in leads back there. */
let returnTo: string | null = null;

export function App() {
  const { path, params } = useLocation();
  const [me, setMe] = useState<MeView | null>(null);
  const [signInReason, setSignInReason] = useState<string | null>(null);
  const [signedIn, setSignedIn] = useState(session.token() !== null);

  useEffect(() => {
    whenUnauthorized(() => {
      session.signOut();
      setMe(null);
      setSignedIn(false);
      setSignInReason('Your session has ended: sign in with your API token again.');
      navigate('/', { replace: true });
    });
  }, []);

  useEffect(() => {
    if (!signedIn) return;
    api.me().then(setMe, () => {}); // a 401 is handled above; other failures show where data is missing
  }, [signedIn]);

  // Signed in on `/` goes to the repos; signed out anywhere shows the sign-in page at `/`.
  useEffect(() => {
    if (signedIn && path === '/') {
      navigate(returnTo ?? '/repos', { replace: true });
      returnTo = null;
    }
    if (!signedIn && path !== '/') {
      returnTo = window.location.pathname + window.location.search;
      navigate('/', { replace: true });
    }
  }, [signedIn, path]);

  const signOut = () => {
    session.signOut();
    setMe(null);
    setSignedIn(false);
    setSignInReason(null);
  };

  let page;
  if (!signedIn) page = <SignIn reason={signInReason} onSignedIn={() => (setSignInReason(null), setSignedIn(true))} />;
  else {
    const repoId = params.get('repo');
    page = (
      <>
        <header class="top-bar">
          <a class="brand" href="/repos" onClick={(e) => (e.preventDefault(), navigate('/repos'))}>
            <span class="logo" aria-hidden="true" /> Lettuce
          </a>
          <div class="who">
            {me && (
              <span>
                {me.account.name} · {me.user.email} ({me.user.role})
              </span>
            )}
            <button type="button" onClick={signOut}>
              Sign out
            </button>
          </div>
        </header>
        {repoId ? <Navigator repoId={repoId} params={params} /> : <ReposPage me={me} tab={params.get('tab') === 'bitbucket' ? 'bitbucket' : 'repos'} q={params.get('q') ?? ''} />}
      </>
    );
  }
  return (
    <>
      {page}
      <Toasts />
    </>
  );
}
