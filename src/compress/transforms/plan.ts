/**
 * Infrastructure plans: `terraform plan` / `tofu plan` and `helm diff`. What decides whether a
 * plan is safe is kept whole: every resource's address and action (`# x will be destroyed`,
 * `# y must be replaced`), every `# forces replacement` attribute, every changed attribute of
 * updates and replacements, destroy and replace openers, the `Plan: X to add, Y to change,
 * Z to destroy.` summary, output changes, warnings and errors. What is cut: attributes that do
 * not change, the bodies of creations and destructions beyond their first lines, repeated
 * identical update bodies (their addresses stay listed), and `Refreshing state...` lines.
 * For `helm diff`, each resource keeps its header, its `+`/`-` lines and the YAML keys above
 * them (the path to each change).
 */
import { formatMarker, shownSummary } from '../markers.js';
import { lineTemplate } from '../lexical.js';
import type { TransformContext, TransformOutput } from '../types.js';

const TF_ACTION_RE = /^\s*# \S+ (?:will be (?:created|destroyed|updated in-place|read during apply|replaced)|must be replaced|has moved to|will no longer be managed|is tainted)/;
const TF_MARK_RE = /Terraform will perform the following actions|OpenTofu will perform the following actions|^Plan: \d+ to (?:add|import)|^No changes\. |Terraform used the selected providers/m;
const HELM_HEADER_RE = /^\S+, \S+, [\w.-]+ \([\w./-]*\) has (?:changed|been added|been removed):$/;
const BLOCK_OPEN_RE = /^(\s*)(-\/\+|\+\/-|[-+~<]|<=) (?:resource|data) "[^"]*" "[^"]*" \{$/;
const REFRESH_RE = /: (?:Refreshing state\.\.\.|Reading\.\.\.|Read complete after \S+)(?: \[id=.*\])?$/;
const CHANGE_RE = /^\s*(?:-\/\+|\+\/-|[-+~])\s/;
const MIN_LINES = 30;
const CREATE_HEAD = 3;
const SAME_BODY_SHOWN = 2;

/** True when the text is a terraform/tofu plan (or apply run) or a helm diff. */
export function looksLikePlan(head: string, lines: readonly string[]): boolean {
  if (TF_MARK_RE.test(head)) return true;
  let actions = 0;
  let helm = 0;
  let refresh = 0;
  for (const l of lines) {
    if (TF_ACTION_RE.test(l)) actions++;
    else if (HELM_HEADER_RE.test(l)) helm++;
    else if (REFRESH_RE.test(l)) refresh++;
  }
  // `terraform apply` / `refresh` runs: a refresh list followed by progress and errors
  return actions >= 2 || helm >= 2 || refresh >= 5;
}

export function compressPlan(text: string, ctx: TransformContext): TransformOutput | null {
  const trailingNewline = text.endsWith('\n');
  const lines = (trailingNewline ? text.slice(0, -1) : text).split('\n');
  if (lines.length < MIN_LINES) return null;
  const helm = lines.some((l) => HELM_HEADER_RE.test(l)) && !TF_MARK_RE.test(text.slice(0, 5000));
  const r = helm ? helmDiff(lines) : terraformPlan(lines);
  if (!r || r.dropped === 0 || ctx.expired()) return null;
  const kept = lines.length - r.dropped;
  r.out.push(formatMarker(ctx.hash, shownSummary(kept, lines.length, 'lines', `${r.resources} resources; unchanged attributes and repeated bodies omitted`)));
  const result = r.out.join('\n');
  if (result.length >= text.length) return null;
  return { text: result, transform: 'plan_compressor', lossy: true, originalItems: lines.length, keptItems: kept, unit: 'lines' };
}

interface PlanOut {
  out: string[];
  dropped: number;
  resources: number;
}

/** The end (inclusive) of the block opened at `start`, by brace/bracket/paren depth and heredocs. */
function blockEnd(lines: readonly string[], start: number): number {
  let depth = 0;
  let heredoc: string | null = null;
  for (let i = start; i < lines.length; i++) {
    const t = (lines[i] as string).trim();
    if (heredoc !== null) {
      if (t === heredoc) heredoc = null;
      continue;
    }
    const h = /<<-?(\w+)$/.exec(t);
    if (h) {
      heredoc = h[1] as string;
      continue;
    }
    if (/^[}\])]/.test(t)) depth--;
    if (/[{[(]$/.test(t)) depth++;
    if (depth <= 0 && i > start) return i;
  }
  return lines.length - 1;
}

function terraformPlan(lines: readonly string[]): PlanOut | null {
  const out: string[] = [];
  let dropped = 0;
  let resources = 0;
  const bodyCounts = new Map<string, number>();
  let refreshRun = 0;
  const flushRefresh = () => {
    if (refreshRun > 2) out.push(`... ${refreshRun - 2} more "Refreshing state..." lines ...`);
    refreshRun = 0;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (REFRESH_RE.test(line)) {
      refreshRun++;
      if (refreshRun <= 2) out.push(line);
      else dropped++;
      continue;
    }
    flushRefresh();
    const open = BLOCK_OPEN_RE.exec(line);
    if (!open) {
      out.push(line);
      continue;
    }
    resources++;
    const action = open[2] as string;
    const pad = ' '.repeat((open[1] as string).length + 6);
    const end = blockEnd(lines, i);
    const body = lines.slice(i + 1, end);
    let shown: string[];
    let note: string | null = null;
    if (action === '+' || action === '-' || action === '<=') {
      // creations, destructions and reads: the first attributes, a count, the closer
      const head = action === '+' ? body.slice(0, CREATE_HEAD) : [];
      shown = [...head, ...body.slice(head.length).filter((l) => /# forces replacement/.test(l))];
      const rest = body.length - shown.length;
      if (rest > 0) note = `${pad}... ${rest} more ${action === '-' ? 'attributes destroyed' : action === '+' ? 'attributes' : 'attributes read'} ...`;
    } else {
      // updates and replacements: every changed line, the blocks holding them, nothing unchanged
      shown = changedLines(body);
      const key = lineTemplate(shown.join('\n'), 2000);
      const seen = (bodyCounts.get(key) ?? 0) + 1;
      bodyCounts.set(key, seen);
      if (seen > SAME_BODY_SHOWN && !shown.some((l) => /# forces replacement/.test(l))) {
        shown = [];
        note = `${pad}... the same changes as the update above (${body.length} lines) ...`;
      } else if (shown.length < body.length) note = `${pad}# (${body.length - shown.length} lines omitted: unchanged, or only known after apply)`;
    }
    out.push(line, ...shown);
    if (note) out.push(note);
    if (end > i) out.push(lines[end] as string);
    dropped += body.length - shown.length;
    i = end;
  }
  flushRefresh();
  return { out, dropped, resources };
}

/** Changed lines of an update body, with the nested blocks (and their closers) that hold them. */
function changedLines(body: readonly string[]): string[] {
  const keep = new Uint8Array(body.length);
  for (let i = 0; i < body.length; i++) {
    const l = body[i] as string;
    if (!CHANGE_RE.test(l) && !/# forces replacement/.test(l)) continue;
    keep[i] = 1;
    // a changed nested block keeps its closer and its `# (N unchanged elements hidden)` note;
    // its changed lines are kept by this loop
    if (/[{[(]$/.test(l.trim())) {
      const end = blockEnd(body, i);
      keep[end] = 1;
      for (let j = i + 1; j < end; j++) if (/unchanged (?:elements|attributes|blocks) hidden/.test(body[j] as string)) keep[j] = 1;
    }
  }
  // hide the noise of replacements: attributes only "known after apply", unless they force it
  return body.filter((l, i) => keep[i] && !(/-> \(known after apply\)$/.test(l) && !/# forces replacement/.test(l) && /^\s*~/.test(l)));
}

function helmDiff(lines: readonly string[]): PlanOut | null {
  const out: string[] = [];
  let dropped = 0;
  let resources = 0;
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    if (!HELM_HEADER_RE.test(line)) {
      out.push(line);
      i++;
      continue;
    }
    resources++;
    let end = i + 1;
    while (end < lines.length && !HELM_HEADER_RE.test(lines[end] as string)) end++;
    const body = lines.slice(i + 1, end);
    const keep = new Uint8Array(body.length);
    for (let k = 0; k < body.length; k++) {
      const l = body[k] as string;
      if (/^\s*# Source:/.test(l) || l.trim() === '') keep[k] = 1;
      if (!/^[-+]/.test(l)) continue;
      keep[k] = 1;
      // the YAML keys above the change: each less indented line going up
      let indent = (/^[-+]\s*/.exec(l)?.[0].length ?? 1) - 1;
      for (let a = k - 1; a >= 0 && indent > 0; a--) {
        const above = body[a] as string;
        if (/^[-+]/.test(above) || !above.trim() || /^\s*# Source:/.test(above)) continue;
        const ind = (/^\s*/.exec(above)?.[0].length ?? 0) - 1;
        if (ind < indent) {
          keep[a] = 1;
          indent = ind;
        }
      }
    }
    // a gap of one line is shown rather than announced
    for (let k = 1; k + 1 < body.length; k++) if (!keep[k] && keep[k - 1] && keep[k + 1]) keep[k] = 1;
    out.push(line);
    let gap = 0;
    for (let k = 0; k < body.length; k++) {
      if (keep[k]) {
        if (gap) out.push(`    ... ${gap} unchanged lines ...`);
        gap = 0;
        out.push(body[k] as string);
      } else {
        gap++;
        dropped++;
      }
    }
    if (gap) out.push(`    ... ${gap} unchanged lines ...`);
    i = end;
  }
  return { out, dropped, resources };
}
