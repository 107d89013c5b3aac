// The registry API from the browser: same origin, the token from sessionStorage, and errors that
// carry the API's own reason (its `message`) so every page can show why something was refused.
export const TOKEN_KEY = 'xp-console-token';

/** A field the API refused, as its error `details` name them (path like `variants.1.weight`). */
export interface FieldProblem {
  path: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The API's `details`: field problems (400) or unmet guards (409), when it sent them. */
    readonly details?: unknown,
  ) {
    super(message);
  }

  /** The field problems of a validation error (empty otherwise). */
  get fields(): FieldProblem[] {
    const d = this.details;
    if (!Array.isArray(d)) return [];
    return d
      .filter((p): p is FieldProblem => typeof p?.path === 'string' && typeof p?.message === 'string')
      .map((p) => ({ path: p.path, message: p.message }));
  }
}

export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

// Response bodies are the registry's JSON; pages read the fields they show.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export async function api(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Json> {
  const t = token();
  const res = await fetch(path, {
    method,
    headers: {
      ...(t ? { authorization: `Bearer ${t}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: Json;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = { message: text };
  }
  if (!res.ok) {
    throw new ApiError(
      res.status,
      parsed?.error ?? 'error',
      parsed?.message ?? `HTTP ${res.status}`,
      parsed?.details,
    );
  }
  return parsed;
}

export interface Me {
  name: string;
  identity: string;
  kind: 'person' | 'service';
  role: 'viewer' | 'editor' | 'admin' | 'sdk';
}

export const canWrite = (me: Me) => me.role === 'editor' || me.role === 'admin';
