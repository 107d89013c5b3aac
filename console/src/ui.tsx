import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { ApiError } from './api';

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

/** The API's reason, with the field paths it named when the message does not already say them. */
export function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  if (!(e instanceof ApiError)) return e.message;
  const missing = e.fields.filter((f) => f.path && !e.message.includes(f.path));
  return missing.length === 0
    ? e.message
    : `${e.message} (${missing.map((f) => `${f.path}: ${f.message}`).join('; ')})`;
}
export const date = (s: string | null | undefined) =>
  s ? new Date(s).toISOString().slice(0, 16).replace('T', ' ') : '—';
export const pct = (x: number | null | undefined, signed = true) =>
  x === null || x === undefined ? '—' : `${signed && x > 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

/** A status badge; `tone` picks the colour (the text always says the state). */
export function Badge({ children, tone }: { children: ComponentChildren; tone?: string }) {
  return <span class={`badge${tone ? ` ${tone}` : ''}`}>{children}</span>;
}

/** With seconds: snapshots can be 30 s apart. */
export const dateTime = (s: string | null | undefined) =>
  s ? new Date(s).toISOString().slice(0, 19).replace('T', ' ') : '—';
