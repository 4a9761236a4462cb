// Sign in with an API token: checked with GET /v1/me, then kept in this tab's session storage.
import { useState } from 'preact/hooks';
import { FieldError } from './field-error';
import { api, ApiError } from './api';
import { session } from './session';

export function SignIn(props: { reason: string | null; onSignedIn: () => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const candidate = token.trim();
    if (!candidate) return setError('Paste your API token first.');
    setBusy(true);
    setError(null);
    try {
      await api.meWith(candidate);
      session.signIn(candidate);
      setToken('');
      props.onSignedIn();
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'Lettuce does not know that token: check it, or ask your operator for a new one.' : (err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="sign-in">
      <h1>
        <span class="logo" aria-hidden="true" /> Lettuce
      </h1>
      <p class="lede">A codebase navigator for your Bitbucket and git repos.</p>
      {props.reason && (
        <p class="banner banner-warning" role="status">
          {props.reason}
        </p>
      )}
      {/* method=post: were the script ever to miss the submit, the token still stays out of the URL. */}
      <form method="post" class="card" onSubmit={submit} aria-describedby="token-help">
        <h2>Sign in</h2>
        <label for="api-token">API token</label>
        <input id="api-token" name="api-token" type="password" autocomplete="off" spellcheck={false} value={token} onInput={(e) => setToken(e.currentTarget.value)} required />
        <p id="token-help" class="hint">
          Your operator gives you a token when they create your account (<code>POST /v1/admin/accounts</code>). It stays in this browser tab only and is
          forgotten when the tab closes.
        </p>
        <FieldError error={error} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
