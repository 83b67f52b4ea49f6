/**
 * The statement with its positional `?` parameters numbered `$1`, `$2`, … as PostgreSQL expects,
 * and how many there are. A `?` inside a string literal ('…', '' escaping a quote), a quoted
 * identifier ("…") or a comment (-- to the end of the line, /* … *\/) is text and stays.
 */
export function numberParameters(sql: string): { text: string; count: number } {
  let count = 0;
  let text = '';
  let i = 0;
  const copyUntil = (end: string, from: number): number => {
    const at = sql.indexOf(end, from);
    const stop = at < 0 ? sql.length : at + end.length;
    text += sql.slice(i, stop);
    return stop;
  };
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "'" || c === '"') i = copyUntil(c, i + 1);
    else if (c === '-' && sql[i + 1] === '-') i = copyUntil('\n', i + 2);
    else if (c === '/' && sql[i + 1] === '*') i = copyUntil('*/', i + 2);
    else {
      text += c === '?' ? `$${++count}` : c;
      i++;
    }
  }
  return { text, count };
}
