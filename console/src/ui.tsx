import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

export interface Notice {
  kind: 'ok' | 'error';
  text: string;
}

/** What happened: a polite status for successes, an alert for errors (read by screen readers). */
export function NoticeBox({ notice }: { notice: Notice | null }) {
  return (
    <div>
      <div role="status" aria-live="polite">
        {notice?.kind === 'ok' && <p class="notice ok">{notice.text}</p>}
      </div>
      <div role="alert">{notice?.kind === 'error' && <p class="notice error">{notice.text}</p>}</div>
    </div>
  );
}

/** A page heading that takes focus when the page opens (keyboard and screen-reader users). */
export function PageTitle({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <h1 tabIndex={-1} ref={ref}>
      {children}
    </h1>
  );
}

export const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));
export const date = (s: string | null | undefined) =>
  s ? new Date(s).toISOString().slice(0, 16).replace('T', ' ') : '—';
export const pct = (x: number | null | undefined, signed = true) =>
  x === null || x === undefined ? '—' : `${signed && x > 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
