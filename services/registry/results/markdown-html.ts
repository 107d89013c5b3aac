// HTML for the Markdown the registry itself writes (the report and the brief): headings,
// paragraphs, block quotes, bullet lists, pipe tables, rules, **bold**, _italic_ and `code`.
// Not a general Markdown engine: every character of text is HTML-escaped first, so user text
// (names, hypotheses, learnings) can never become markup. Pure.

const escapeHtml = (s: string) =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');

/** Inline markup on already-escaped text; code spans first so their content stays literal. */
function inline(text: string): string {
  const parts = escapeHtml(text).split(/(`[^`]*`)/);
  return parts
    .map((part) => {
      if (part.startsWith('`') && part.endsWith('`') && part.length >= 2)
        return `<code>${part.slice(1, -1)}</code>`;
      return part
        .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
        .replace(/(^|[\s(])_([^_]+)_(?=$|[\s).,;:])/g, '$1<em>$2</em>');
    })
    .join('');
}

function tableCells(line: string): string[] {
  // Split on pipes not escaped with a backslash; the outer pipes delimit the row.
  const cells = line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/);
  return cells.map((c) => c.trim().replace(/\\\|/g, '|'));
}

export function markdownToHtml(markdown: string): string {
  const lines = markdown.split('\n');
  const html: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      const level = heading[1]!.length;
      html.push(`<h${level}>${inline(heading[2]!)}</h${level}>`);
      i++;
    } else if (/^---\s*$/.test(line)) {
      html.push('<hr>');
      i++;
    } else if (line.startsWith('|')) {
      const rows: string[][] = [];
      while (i < lines.length && lines[i]!.startsWith('|')) rows.push(tableCells(lines[i++]!));
      const [head, sep, ...body] = rows;
      const isSep = sep?.every((c) => /^:?-{3,}:?$/.test(c));
      html.push('<table>');
      if (head && isSep) {
        html.push(`<thead><tr>${head.map((c) => `<th>${inline(c)}</th>`).join('')}</tr></thead>`);
        html.push(
          `<tbody>${body.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join('')}</tr>`).join('')}</tbody>`,
        );
      } else {
        html.push(
          `<tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join('')}</tr>`).join('')}</tbody>`,
        );
      }
      html.push('</table>');
    } else if (/^- /.test(line)) {
      html.push('<ul>');
      while (i < lines.length && /^- /.test(lines[i]!)) html.push(`<li>${inline(lines[i++]!.slice(2))}</li>`);
      html.push('</ul>');
    } else if (line.startsWith('> ')) {
      const quote: string[] = [];
      while (i < lines.length && lines[i]!.startsWith('> ')) quote.push(lines[i++]!.slice(2));
      html.push(`<blockquote><p>${inline(quote.join(' '))}</p></blockquote>`);
    } else if (line.trim() === '') {
      i++;
    } else {
      const para: string[] = [];
      while (i < lines.length && lines[i]!.trim() !== '' && !/^(#|\||- |> |---)/.test(lines[i]!))
        para.push(lines[i++]!);
      html.push(`<p>${inline(para.join(' '))}</p>`);
    }
  }
  return html.join('\n');
}

/** A complete page with a little CSS, so the report reads well when opened in a browser. */
export function htmlPage(title: string, markdown: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem; color: #1f2328; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #d0d7de; padding: .3rem .6rem; text-align: left; }
th { background: #f6f8fa; }
blockquote { margin: 1rem 0; padding: .5rem 1rem; border-left: .25rem solid #0969da; background: #f6f8fa; font-size: 1.1em; }
code { background: #f6f8fa; padding: 0 .2rem; border-radius: 3px; }
</style>
</head>
<body>
${markdownToHtml(markdown)}
</body>
</html>
`;
}
