// A git URL with optional credentials for a private repo. The credentials are joined into the URL
// only for the request body (the server splits them off and seals them): they are never shown
// back, stored in the browser, or put in the address bar.
import { useState } from 'preact/hooks';

export interface GitUrlInput {
  url: string;
  username: string;
  password: string;
}

/** The URL to send, or an error sentence. */
export function composeGitUrl(input: GitUrlInput): { url: string } | { error: string } {
  const raw = input.url.trim();
  if (!raw) return { error: 'Paste the repo’s git URL first.' };
  if (!input.username && !input.password) return { url: raw };
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return { error: 'That is not a URL: it looks like https://host/path.git.' };
  }
  if (!input.username) return { error: 'Give the username that goes with the password or token (for a Bitbucket access token: x-token-auth).' };
  u.username = input.username;
  u.password = input.password;
  return { url: u.toString() };
}

/**
 * The state of a form around GitUrlFields: `submit` composes the URL and hands it to `send`; a
 * failure (the API's sentence) shows under the form.
 */
export function useGitUrlForm(initialUrl: string, send: (url: string) => Promise<void>) {
  const [value, setValue] = useState<GitUrlInput>({ url: initialUrl, username: '', password: '' });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const composed = composeGitUrl(value);
    if ('error' in composed) return setError(composed.error);
    setBusy(true);
    setError(null);
    try {
      await send(composed.url);
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };
  return { value, setValue, error, busy, submit };
}

export function GitUrlFields(props: { idPrefix: string; value: GitUrlInput; onChange: (v: GitUrlInput) => void; autofocus?: boolean }) {
  const { value: v, idPrefix: id } = props;
  return (
    <>
      <label for={`${id}-url`}>Git URL</label>
      <input
        id={`${id}-url`}
        type="text"
        inputMode="url"
        placeholder="https://host/path.git"
        autocomplete="off"
        spellcheck={false}
        data-autofocus={props.autofocus ? '' : undefined}
        value={v.url}
        onInput={(e) => props.onChange({ ...v, url: e.currentTarget.value })}
        required
      />
      <fieldset class="credentials">
        <legend>Credentials, for a private repo</legend>
        <label for={`${id}-username`}>Username</label>
        <input id={`${id}-username`} type="text" autocomplete="off" spellcheck={false} value={v.username} onInput={(e) => props.onChange({ ...v, username: e.currentTarget.value })} />
        <label for={`${id}-password`}>Password or access token</label>
        <input id={`${id}-password`} type="password" autocomplete="new-password" value={v.password} onInput={(e) => props.onChange({ ...v, password: e.currentTarget.value })} />
        <p class="hint">Lettuce keeps them encrypted and uses them only to clone and fetch; they never appear again, here or anywhere.</p>
      </fieldset>
    </>
  );
}
