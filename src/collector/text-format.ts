/**
 * Prometheus text exposition → plain samples, on the `parse-prometheus-text-format` package.
 * Only simple samples (gauge, counter, untyped) are returned; histograms and summaries, which real
 * vLLM serves by the dozen, are skipped, except those named in `flatHistograms`: their `_sum` and
 * `_count` series come back as plain samples (`<name>_sum`, `<name>_count`). The package's own
 * histogram parsing (1.1.1) drops every label and the sum and count, so those are read untyped.
 * Values that are NaN/±Inf/unparsable become undefined.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

export interface TextSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number | undefined;
}

export class ExpositionError extends Error {
  constructor(
    readonly source: string,
    cause: string,
  ) {
    super(`cannot parse Prometheus text format from ${source}: ${cause}; expected lines like \`metric{label="v"} 1\``);
    this.name = 'ExpositionError';
  }
}

/** Parses, keeping only the families whose name is in `wanted` (all when omitted). */
export function parseExposition(
  text: string,
  source: string,
  wanted?: ReadonlySet<string>,
  flatHistograms?: ReadonlySet<string>,
): TextSample[] {
  let families;
  try {
    families = parsePrometheusTextFormat(
      flatHistograms && flatHistograms.size > 0 ? untypeHistograms(text, flatHistograms) : text,
    );
  } catch (error) {
    throw new ExpositionError(source, (error as Error).message);
  }
  const out: TextSample[] = [];
  for (const f of families) {
    if (wanted && !wanted.has(f.name)) continue;
    if (f.type === 'HISTOGRAM' || f.type === 'SUMMARY') continue;
    for (const m of f.metrics) {
      if (m.value === undefined) continue;
      const n = Number(m.value);
      out.push({
        name: f.name,
        labels: m.labels ?? {},
        value: Number.isFinite(n) && m.value.trim() !== '' ? n : undefined,
      });
    }
  }
  return out;
}

/** Drops the `# TYPE <name> histogram` line of the named histograms, so their series parse as untyped samples. */
function untypeHistograms(text: string, names: ReadonlySet<string>): string {
  return text.replace(/^# TYPE (\S+) histogram[ \t]*$/gm, (line, name: string) => (names.has(name) ? '' : line));
}
