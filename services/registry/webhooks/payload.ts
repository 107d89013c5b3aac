// The body a webhook receives: our JSON event as is, or a Slack incoming-webhook message
// (`text` plus Block Kit `blocks`) for channels that should read it as a sentence. Pure.

export type WebhookFormat = 'json' | 'slack';

type Payload = Record<string, unknown>;

const str = (v: unknown) =>
  typeof v === 'string' ? v : v === null || v === undefined ? '' : JSON.stringify(v);
const pct = (v: unknown) =>
  typeof v === 'number' && Number.isFinite(v) ? `${v > 0 ? '+' : ''}${(v * 100).toFixed(1)}%` : 'n/a';
/** Slack mrkdwn treats <, > and & specially. */
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** One plain line describing the event. */
export function eventText(event: string, p: Payload): string {
  const key = esc(str(p.experimentKey));
  switch (event) {
    case 'experiment.transitioned':
      return `Experiment ${key} moved from ${esc(str(p.from))} to ${esc(str(p.to))} (by ${esc(str(p.actor))}).`;
    case 'experiment.concluded': {
      const results = p.results as { decision?: { sentence?: string } } | null;
      const learnings = str(p.learnings);
      return (
        `Experiment ${key} concluded: ${esc(str(p.decision) || 'no decision')}.` +
        (results?.decision?.sentence ? ` ${esc(results.decision.sentence)}` : '') +
        (learnings ? ` Learnings: ${esc(learnings)}` : '')
      );
    }
    case 'results.srm_warning':
      return `Sample-ratio mismatch in ${key} (p = ${Number(p.srmPValue).toPrecision(2)}): the traffic split is broken; do not trust its results.`;
    case 'results.significant':
      return `${key}: ${esc(str(p.variationId))} is significant on ${esc(str(p.metric))} (${pct(p.lift)}, interval ${pct(p.liftCiLower)} to ${pct(p.liftCiUpper)}).`;
    case 'results.guardrail_failed':
      return `${key}: guardrail ${esc(str(p.metric))} fails for ${esc(str(p.variationId))} (${pct(p.lift)}).`;
    case 'ping':
      return `Test delivery from the xp registry.`;
    default:
      return `${event} for ${key}`;
  }
}

export function webhookBody(format: WebhookFormat, event: string, payload: Payload): string {
  if (format === 'json') return JSON.stringify({ event, ...payload });
  const text = eventText(event, payload);
  return JSON.stringify({
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `xp · ${esc(event)}` }] },
    ],
  });
}
