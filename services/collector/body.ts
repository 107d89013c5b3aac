import { isUtf8 } from 'node:buffer';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';

const gunzipAsync = promisify(gunzip);

/** Why a request body could not be read, as the HTTP answer will say it. */
export interface BodyError {
  status: 400 | 413 | 415;
  code: 'invalid_gzip' | 'payload_too_large' | 'unsupported_encoding' | 'invalid_utf8' | 'invalid_json';
  message: string;
  /** Character offset of a JSON syntax error in the (decompressed) body. */
  position?: number;
}

export type Decoded = { ok: true; value: unknown; bytes: number } | { ok: false; error: BodyError };

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
        return fail(413, 'payload_too_large', `the decompressed body exceeds ${maxBytes} bytes`);
      }
      return fail(400, 'invalid_gzip', `the gzip body cannot be decompressed: ${(err as Error).message}`);
    }
  } else if (encoding !== 'identity') {
    return fail(
      415,
      'unsupported_encoding',
      `Content-Encoding ${JSON.stringify(encoding)}: send gzip or none`,
    );
  }
  if (body.length === 0)
    return {
      ok: false,
      error: { status: 400, code: 'invalid_json', message: 'the body is empty', position: 0 },
    };
  if (!isUtf8(body)) return fail(400, 'invalid_utf8', 'the body is not valid UTF-8');
  const text = body.toString('utf8');
  try {
    return {
      ok: true,
      value: JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text),
      bytes: body.length,
    };
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
    };
  }
}

function fail(status: BodyError['status'], code: BodyError['code'], message: string): Decoded {
  return { ok: false, error: { status, code, message } };
}
