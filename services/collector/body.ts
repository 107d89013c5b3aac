import { isUtf8 } from 'node:buffer';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { duplicateKey } from '../common/strict-json';

const gunzipAsync = promisify(gunzip);

/** Why a request body could not be read, as the HTTP answer will say it. */
export interface BodyError {
  status: 400 | 413 | 415;
  code: 'invalid_gzip' | 'payload_too_large' | 'unsupported_encoding' | 'invalid_utf8' | 'invalid_json';
  message: string;
  /** Character offset of a JSON syntax error in the (decompressed) body. */
  position?: number;
}

/**
 * The parsed body, or why it cannot be read. `text` is the body after decompression (the
 * raw bytes when it was not compressed or cannot be decompressed): failed events keep that,
 * so a reader sees the JSON that was wrong, not gzip bytes.
 */
export type Decoded =
  { ok: true; value: unknown; bytes: number; text: Buffer } | { ok: false; error: BodyError; text: Buffer };

/**
 * Decompresses (gzip or none), checks UTF-8 and parses JSON. Decompression stops at
 * `maxBytes` of output, so a gzip bomb costs at most that much memory and gives 413.
 */
export async function decodeBody(
  raw: Buffer,
  contentEncoding: string | undefined,
  maxBytes: number,
): Promise<Decoded> {
  let body = raw;
  const encoding = (contentEncoding ?? 'identity').trim().toLowerCase();
  if (encoding === 'gzip' || encoding === 'x-gzip') {
    try {
      body = await gunzipAsync(raw, { maxOutputLength: maxBytes });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        return fail(raw, 413, 'payload_too_large', `the decompressed body exceeds ${maxBytes} bytes`);
      }
      return fail(
        raw,
        400,
        'invalid_gzip',
        `the gzip body cannot be decompressed: ${(err as Error).message}`,
      );
    }
  } else if (encoding !== 'identity') {
    return fail(
      raw,
      415,
      'unsupported_encoding',
      `Content-Encoding ${JSON.stringify(encoding)}: send gzip or none`,
    );
  }
  if (body.length === 0)
    return {
      ok: false,
      error: { status: 400, code: 'invalid_json', message: 'the body is empty', position: 0 },
      text: body,
    };
  if (!isUtf8(body)) return fail(body, 400, 'invalid_utf8', 'the body is not valid UTF-8');
  const full = body.toString('utf8');
  const text = full.charCodeAt(0) === 0xfeff ? full.slice(1) : full;
  try {
    const value: unknown = JSON.parse(text);
    // JSON.parse keeps the last of duplicate keys without a word; which one the sender meant
    // is unknowable, so the body is refused (README: policies).
    const duplicate = typeof value === 'object' && value !== null ? duplicateKey(text) : null;
    if (duplicate) {
      return {
        ok: false,
        error: {
          status: 400,
          code: 'invalid_json',
          message: `duplicate key ${JSON.stringify(duplicate.key.slice(0, 64))} in one object`,
          position: duplicate.position,
        },
        text: body,
      };
    }
    return { ok: true, value, bytes: body.length, text: body };
  } catch (err) {
    const message = (err as Error).message;
    const at = /at position (\d+)/.exec(message);
    return {
      ok: false,
      error: {
        status: 400,
        code: 'invalid_json',
        message: `malformed JSON: ${message}`,
        position: at ? Number(at[1]) : text.length,
      },
      text: body,
    };
  }
}

function fail(text: Buffer, status: BodyError['status'], code: BodyError['code'], message: string): Decoded {
  return { ok: false, error: { status, code, message }, text };
}
