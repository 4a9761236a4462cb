// Toasts: short notices in the corner. Successes fade after a while; errors stay until closed.
// Both live regions exist from the first render, so screen readers announce what lands in them.
import { useEffect, useState } from 'preact/hooks';
import type { Notice } from './messages';

interface Toast extends Notice {
  id: number;
}

let toasts: Toast[] = [];
let nextId = 1;
const listeners = new Set<(t: Toast[]) => void>();
const publish = () => listeners.forEach((l) => l(toasts));

export function toast(notice: Notice): void {
  // The same words twice in a row are one toast.
  if (toasts.some((t) => t.text === notice.text)) return;
  const t = { ...notice, id: nextId++ };
  toasts = [...toasts, t];
  publish();
  if (notice.kind === 'success') setTimeout(() => dismiss(t.id), 8_000);
}

export const toastError = (err: unknown) => toast({ kind: 'error', text: err instanceof Error ? err.message : String(err) });

function dismiss(id: number): void {
  toasts = toasts.filter((t) => t.id !== id);
  publish();
}

export function Toasts() {
  const [list, setList] = useState(toasts);
  useEffect(() => {
    listeners.add(setList);
    return () => void listeners.delete(setList);
  }, []);
  const region = (kind: Notice['kind']) => (
    <div class={`toasts toasts-${kind}`} role={kind === 'error' ? 'alert' : 'status'} aria-live={kind === 'error' ? 'assertive' : 'polite'}>
      {list
        .filter((t) => t.kind === kind)
        .map((t) => (
          <div key={t.id} class={`toast toast-${t.kind}`}>
            <span>{t.text}</span>
            <button type="button" class="toast-close" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
              ×
            </button>
          </div>
        ))}
    </div>
  );
  return (
    <div class="toast-stack">
      {region('success')}
      {region('error')}
    </div>
  );
}
