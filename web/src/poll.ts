// Polling while the tab is visible: the repo list refreshes itself without a reload.
import { useEffect, useRef } from 'preact/hooks';

export function usePoll(fn: () => Promise<unknown>, intervalMs: number): void {
  const latest = useRef(fn);
  latest.current = fn;
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const tick = async () => {
      if (!document.hidden) await latest.current().catch(() => {});
      if (!stopped) timer = setTimeout(tick, intervalMs);
    };
    timer = setTimeout(tick, intervalMs);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [intervalMs]);
}
