// The UI's place is its URL: `/` (sign in), `/repos` (tabs Repos / Bitbucket) and
// `/repos?repo=<id>[&path=<file>&line=<n>]` (the navigator). The server answers the same page for
// all of them; history.pushState moves between them without a reload.
import { useEffect, useState } from 'preact/hooks';

const listeners = new Set<() => void>();
const notify = () => listeners.forEach((l) => l());
window.addEventListener('popstate', notify);

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  notify();
}

/** `/repos` with these query parameters (empty values left out). */
export function reposUrl(params: Record<string, string | number | null | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `/repos?${s}` : '/repos';
}

/** The current location; re-renders on every navigation. */
export function useLocation(): { path: string; params: URLSearchParams } {
  const [, setTick] = useState(0);
  useEffect(() => {
    const listener = () => setTick((t) => t + 1);
    listeners.add(listener);
    return () => void listeners.delete(listener);
  }, []);
  return { path: window.location.pathname.replace(/\/+$/, '') || '/', params: new URLSearchParams(window.location.search) };
}

/** A link that moves inside the UI (a plain link for a new tab or a middle click). */
export function onLinkClick(e: MouseEvent, to: string): void {
  if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(to);
}
