/**
 * The /metrics storm of bench/http-storm.ts, in its own process so it does not share the
 * scaler's event loop: `clients` loops, each GETting the URL and reading the whole body, for
 * `durationMs`. Prints one JSON line: responses by status and bytes read.
 */
const [url = '', clientsArg = '200', durationArg = '4000'] = process.argv.slice(2);
const until = Date.now() + Number(durationArg);
const byStatus: Record<string, number> = {};
let bytes = 0;
async function loop(): Promise<void> {
  while (Date.now() < until) {
    try {
      const r = await fetch(url);
      bytes += (await r.arrayBuffer()).byteLength;
      byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
    } catch {
      byStatus['error'] = (byStatus['error'] ?? 0) + 1;
    }
  }
}
await Promise.all(Array.from({ length: Number(clientsArg) }, () => loop()));
console.log(JSON.stringify({ byStatus, bytes }));
