/**
 * A renderer for exactly the Helm template subset the wva-scaler chart uses (no helm binary on
 * these machines): `{{ .Values.a.b }}`, `.Release.Name`, `.Release.Namespace`, `.Chart.*`, string
 * literals, pipelines with `quote`, `toYaml`, `nindent N`, `indent N`; `if` / `else` / `end` with
 * a path, `not X`, `and X Y`, `or X Y`, `eq X Y`, nested in `( )`; `fail "message"`; `{{-` / `-}}`
 * whitespace trimming. Anything else throws, so the chart cannot drift out of what this test
 * checks. Stricter than Helm on purpose: printing a value that does not exist in values.yaml is an
 * error (a typo would render empty in Helm).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Document, parse as parseYaml, parseAllDocuments, stringify, visit } from 'yaml';

export interface RenderContext {
  readonly Values: unknown;
  readonly Release: { readonly Name: string; readonly Namespace: string };
  readonly Chart: Record<string, unknown>;
}

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'expr'; expr: string }
  | { kind: 'if'; cond: string; then: Node[]; else: Node[] };

interface Token {
  kind: 'text' | 'action';
  value: string;
}

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  const re = /\{\{(-?)\s*([\s\S]*?)\s*(-?)\}\}/g;
  let last = 0;
  let trimNext = false;
  for (let m = re.exec(src); m; m = re.exec(src)) {
    let text = src.slice(last, m.index);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (m[1] === '-') text = text.replace(/\s+$/, '');
    if (text !== '') tokens.push({ kind: 'text', value: text });
    tokens.push({ kind: 'action', value: m[2] ?? '' });
    trimNext = m[3] === '-';
    last = re.lastIndex;
  }
  let rest = src.slice(last);
  if (trimNext) rest = rest.replace(/^\s+/, '');
  if (rest !== '') tokens.push({ kind: 'text', value: rest });
  return tokens;
}

function parse(tokens: Token[]): Node[] {
  let i = 0;
  function block(): { nodes: Node[]; end: 'end' | 'else' | 'eof' } {
    const nodes: Node[] = [];
    while (i < tokens.length) {
      const t = tokens[i++]!;
      if (t.kind === 'text') {
        nodes.push({ kind: 'text', text: t.value });
        continue;
      }
      if (t.value === 'end') return { nodes, end: 'end' };
      if (t.value === 'else') return { nodes, end: 'else' };
      if (t.value.startsWith('if ')) {
        const then = block();
        let otherwise: Node[] = [];
        if (then.end === 'else') {
          const e = block();
          if (e.end !== 'end') throw new Error(`unterminated else of "if ${t.value.slice(3)}"`);
          otherwise = e.nodes;
        } else if (then.end !== 'end') throw new Error(`unterminated "${t.value}"`);
        nodes.push({ kind: 'if', cond: t.value.slice(3).trim(), then: then.nodes, else: otherwise });
        continue;
      }
      if (/^(range|with|define|template|include|block)\b/.test(t.value) || t.value.startsWith('/*')) {
        throw new Error(`template action outside the supported subset: {{ ${t.value} }}`);
      }
      nodes.push({ kind: 'expr', expr: t.value });
    }
    return { nodes, end: 'eof' };
  }
  const top = block();
  if (top.end !== 'eof') throw new Error(`unexpected {{ ${top.end} }}`);
  return top.nodes;
}

const MISSING = Symbol('missing');

function lookup(ctx: RenderContext, path: string): unknown {
  if (!path.startsWith('.')) throw new Error(`expected a .Path, got ${path}`);
  let cur: unknown = ctx;
  for (const part of path.slice(1).split('.')) {
    if (cur === null || typeof cur !== 'object' || !(part in (cur as object))) return MISSING;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function term(ctx: RenderContext, raw: string): unknown {
  const t = raw.trim();
  if (/^"([^"\\]|\\.)*"$/.test(t)) return JSON.parse(t) as string;
  if (/^-?\d+$/.test(t)) return Number(t);
  return lookup(ctx, t);
}

function truthy(v: unknown): boolean {
  if (v === MISSING || v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

const CONDITION_FNS = new Set(['not', 'and', 'or', 'eq']);

/** `if` conditions: a path or literal, or `not X`, `and X Y...`, `or X Y...`, `eq X Y`, with `( )` nesting. */
function condition(ctx: RenderContext, cond: string): boolean {
  const toks = cond.match(/"(?:[^"\\]|\\.)*"|[()]|[^\s()]+/g) ?? [];
  let i = 0;
  const subset = (): Error => new Error(`condition outside the supported subset: ${cond}`);
  const operand = (): unknown => {
    const t = toks[i++];
    if (t === undefined || t === ')' || CONDITION_FNS.has(t)) throw subset();
    if (t !== '(') return term(ctx, t);
    const v = call();
    if (toks[i++] !== ')') throw subset();
    return v;
  };
  const call = (): unknown => {
    const fn = toks[i];
    if (fn === undefined || !CONDITION_FNS.has(fn)) return operand();
    i++;
    const args: unknown[] = [];
    while (i < toks.length && toks[i] !== ')') args.push(operand());
    if (fn === 'not' && args.length === 1) return !truthy(args[0]);
    if (fn === 'and' && args.length >= 2) return args.every(truthy);
    if (fn === 'or' && args.length >= 2) return args.some(truthy);
    if (fn === 'eq' && args.length === 2) {
      if (args.includes(MISSING)) throw new Error(`eq on a value that is not defined: ${cond}`);
      return args[0] === args[1];
    }
    throw subset();
  };
  const v = call();
  if (i !== toks.length) throw subset();
  return truthy(v);
}

function toYaml(v: unknown): string {
  // Helm's toYaml quotes YAML 1.1 booleans such as `on` (go-yaml); YAML 1.2 would print them plain.
  return stringify(v, { lineWidth: 0, version: '1.1' }).replace(/\n$/, '');
}

function scalarText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new Error(`cannot print a ${Array.isArray(v) ? 'list' : typeof v} without toYaml`);
}

function evaluate(ctx: RenderContext, expr: string): string {
  // `fail "message"` aborts the whole render, as `helm install` / `helm template` do.
  const fail = /^fail\s+("(?:[^"\\]|\\.)*")$/.exec(expr);
  if (fail) throw new Error(`execution error: ${JSON.parse(fail[1] ?? '""') as string}`);
  const [first = '', ...rest] = expr.split('|').map((s) => s.trim());
  // `toYaml .Values.x | nindent 2` is `.Values.x | toYaml | nindent 2`.
  const call = /^(toYaml|quote)\s+(\S+)$/.exec(first);
  const head = call ? (call[2] ?? '') : first;
  const fns = call ? [call[1] ?? '', ...rest] : rest;
  let value: unknown = term(ctx, head);
  if (value === MISSING) throw new Error(`${head} is not defined (in {{ ${expr} }})`);
  let text: string | undefined;
  for (const f of fns) {
    const [name, arg] = f.split(/\s+/);
    switch (name) {
      case 'quote':
        text = JSON.stringify(text ?? scalarText(value));
        break;
      case 'toYaml':
        text = toYaml(value);
        break;
      case 'nindent':
      case 'indent': {
        const n = Number(arg);
        if (!Number.isInteger(n)) throw new Error(`${name} needs a number: ${f}`);
        const pad = ' '.repeat(n);
        const body = (text ?? scalarText(value)).split('\n').map((l) => pad + l).join('\n');
        text = name === 'nindent' ? `\n${body}` : body;
        break;
      }
      default:
        throw new Error(`function outside the supported subset: ${f}`);
    }
    value = text;
  }
  return text ?? scalarText(value);
}

function renderNodes(ctx: RenderContext, nodes: Node[]): string {
  let out = '';
  for (const n of nodes) {
    if (n.kind === 'text') out += n.text;
    else if (n.kind === 'expr') out += evaluate(ctx, n.expr);
    else out += renderNodes(ctx, condition(ctx, n.cond) ? n.then : n.else);
  }
  return out;
}

export function renderTemplate(src: string, ctx: RenderContext): string {
  return renderNodes(ctx, parse(tokenize(src)));
}

/** Deep merge of values overrides (maps merge, everything else replaces), like `helm --set`/`-f`. */
export function mergeValues(base: unknown, over: unknown): unknown {
  if (over === null || typeof over !== 'object' || Array.isArray(over)) return over;
  if (base === null || typeof base !== 'object' || Array.isArray(base)) return over;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over as Record<string, unknown>)) out[k] = mergeValues(out[k], v);
  return out;
}

/**
 * Where the plain manifest's Prometheus is assumed to be: prometheus-operator's default Service in
 * namespace `monitoring`. A placeholder, said so in the manifest; the chart itself has no default
 * and refuses to render without a metrics source.
 */
export const MANIFEST_PROMETHEUS_URL = 'http://prometheus-operated.monitoring.svc:9090';

/** The rendering of a chart with its default values and MANIFEST_PROMETHEUS_URL, as one multi-document YAML (deploy/manifests). */
export function renderChartManifest(chartDir: string, release = { Name: 'wva-scaler', Namespace: 'keda' }): string {
  const chart = parseYaml(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
  const defaults = parseYaml(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as unknown;
  const ctx: RenderContext = {
    Values: mergeValues(defaults, { settings: { prometheusUrl: MANIFEST_PROMETHEUS_URL } }),
    Release: release,
    Chart: { Name: chart['name'], Version: chart['version'], AppVersion: chart['appVersion'] },
  };
  const docs: Document[] = [];
  for (const t of readdirSync(join(chartDir, 'templates')).filter((f) => f.endsWith('.yaml')).sort()) {
    for (const d of parseAllDocuments(renderTemplate(readFileSync(join(chartDir, 'templates', t), 'utf8'), ctx))) {
      const js = d.toJS() as unknown;
      // Written as YAML 1.1, the version kubectl reads: strings such as `on` or `yes` stay quoted
      // (YAML 1.2 would print them plain, and kubectl would read a boolean).
      if (js !== null) docs.push(new Document(js, { version: '1.1' }));
    }
  }
  for (const doc of docs) {
    visit(doc, {
      Map(_, node) {
        if (node.get('name') === 'PROMETHEUS_BASE_URL') node.commentBefore = ' Placeholder: change to your Prometheus (or see the README for the scrape backend).';
      },
    });
  }
  const header = `# Generated from deploy/helm/wva-scaler with the default values and settings.prometheusUrl=${MANIFEST_PROMETHEUS_URL}\n` +
    `# (release ${release.Name}, namespace ${release.Namespace}). That Prometheus URL is a placeholder: set PROMETHEUS_BASE_URL below to yours.\n` +
    '# Regenerate: npx tsx -e "import(\'./test/unit/deploy/helm-template.ts\').then(m => process.stdout.write(m.renderChartManifest(\'deploy/helm/wva-scaler\')))" > deploy/manifests/wva-scaler.yaml\n';
  return header + docs.map((d) => d.toString({ lineWidth: 0 })).join('---\n');
}
