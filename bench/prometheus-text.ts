/** Sum of every series of `name` in a Prometheus text exposition, optionally only those whose labels contain `labelMatch`. */
export function metricSum(text: string, name: string, labelMatch?: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    if (labelMatch && !rest.includes(labelMatch)) continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(v)) sum += v;
  }
  return sum;
}
