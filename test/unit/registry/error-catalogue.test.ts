// The registry's error catalogue (services/registry/core/errors.ts): stable, unique codes,
// messages from their templates, every error the code throws from the catalogue, and the
// README's table generated from it (XP_UPDATE_DOCS=1 rewrites the table).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOGUE, ERR, RegistryError, format } from '../../../services/registry/core/errors';
import { ROOT, sourceFiles } from '../architecture/import-graph';

const README = join(ROOT, 'services/registry/README.md');

const cell = (s: string) => s.replace(/\|/g, '\\|');

/** The catalogue as a Markdown table: code, status, `error`, message template, when. */
function catalogueTable(): string {
  const rows = CATALOGUE.map(
    (e) =>
      `| \`${e.code}\` | ${e.status === 0 ? '4xx' : e.status} | \`${e.error}\` | \`${cell(e.template)}\` | ${cell(e.description)} |`,
  );
  return ['| code | status | `error` | message | when |', '| --- | --- | --- | --- | --- |', ...rows].join(
    '\n',
  );
}
const START = '<!-- error-catalogue:start (generated from core/errors.ts) -->';
const END = '<!-- error-catalogue:end -->';

describe('error catalogue', () => {
  it('has unique XP_REGISTRY_* codes named after their entries, with HTTP error statuses', () => {
    const codes = CATALOGUE.map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const [name, e] of Object.entries(ERR)) {
      expect(e.code).toBe(`XP_REGISTRY_${name}`);
      expect(e.error).toMatch(/^[a-z_]+$/);
      expect(e.status === 0 || (e.status >= 400 && e.status <= 599)).toBe(true);
      expect(e.description.length).toBeGreaterThan(0);
    }
  });

  it('builds errors from the templates', () => {
    const err = ERR.NOT_FOUND({ what: 'flag "x"' });
    expect(err).toBeInstanceOf(RegistryError);
    expect([err.statusCode, err.code, err.error, err.message]).toEqual([
      404,
      'XP_REGISTRY_NOT_FOUND',
      'not_found',
      'flag "x" not found',
    ]);
    const conflict = ERR.VERSION_CONFLICT({ key: 'k', sent: 1, current: 2 }, { currentVersion: 2 });
    expect(conflict.message).toBe(
      'k was changed concurrently: you sent version 1, the current version is 2; re-read and retry',
    );
    expect(conflict.details).toEqual({ currentVersion: 2 });
    // Values are inserted once: braces in them are not placeholders.
    expect(format('no file {path}', { path: '{path}' })).toBe('no file {path}');
    const refused = ERR.REQUEST_REFUSED.withStatus(415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE', 'Unsupported');
    expect([refused.statusCode, refused.error, refused.code]).toEqual([
      415,
      'FST_ERR_CTP_INVALID_MEDIA_TYPE',
      'XP_REGISTRY_REQUEST_REFUSED',
    ]);
  });

  it('is the only source of the errors the registry answers', () => {
    const adHoc: string[] = [];
    for (const file of sourceFiles(join(ROOT, 'services/registry'))) {
      const text = readFileSync(file, 'utf8');
      const name = file.slice(ROOT.length + 1);
      if (!name.endsWith('core/errors.ts') && /new RegistryError\(/.test(text))
        adHoc.push(`${name}: new RegistryError`);
      if (!name.endsWith('http/errors.ts') && /send\(\{\s*error\b/.test(text))
        adHoc.push(`${name}: an error body`);
      if (/\bHttpError\b/.test(text)) adHoc.push(`${name}: HttpError`);
    }
    expect(adHoc).toEqual([]);
  });

  it('is documented in services/registry/README.md (XP_UPDATE_DOCS=1 regenerates the table)', () => {
    const readme = readFileSync(README, 'utf8');
    const start = readme.indexOf(START);
    const end = readme.indexOf(END);
    expect(start).toBeGreaterThan(-1);
    expect(end).toBeGreaterThan(start);
    const generated = `${START}\n\n${catalogueTable()}\n\n${END}`;
    const current = readme.slice(start, end + END.length);
    if (current !== generated && process.env.XP_UPDATE_DOCS === '1') {
      writeFileSync(README, readme.slice(0, start) + generated + readme.slice(end + END.length));
      return;
    }
    expect(current).toBe(generated);
  });
});
