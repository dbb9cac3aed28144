import { Composer, LineCounter, Parser, YAMLParseError, isAlias, visit } from 'yaml';
import type { CST, Document, YAMLError } from 'yaml';
import { jsonErrorOffset } from './json-error-offset.js';
import { findTooDeep } from './nesting-depth.js';
import { MAX_ALIAS_COUNT, MAX_DOCUMENT_BYTES, MAX_NESTING_DEPTH } from './pipeline-limits.js';
import { NO_SOURCE_POSITIONS, yamlSourceLocator } from './source-locator.js';
import type { SourceLocator } from './source-locator.js';
import type { PipelineIssue } from './types.js';

export type DocumentFormat = 'yaml' | 'json' | 'auto';

export type ReadDocumentResult =
  | { readonly ok: true; readonly value: unknown; readonly locate: SourceLocator }
  | { readonly ok: false; readonly issues: PipelineIssue[] };

/**
 * Pass 1, syntax: text -> plain value, plus a locator that maps paths back to lines for the
 * later passes. Refuses oversized documents, nesting deeper than MAX_NESTING_DEPTH, more than one
 * YAML document and alias expansion beyond MAX_ALIAS_COUNT.
 */
export function readDocument(text: string, format: DocumentFormat = 'auto', sourceName?: string): ReadDocumentResult {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_DOCUMENT_BYTES) {
    return fail(null, `document too large: ${bytes} bytes (the limit is ${MAX_DOCUMENT_BYTES} bytes, 1 MiB)`);
  }
  const lineCounter = new LineCounter();
  let doc: Document.Parsed;
  try {
    // The CST parser does not recurse; the depth check must come before the composer, which does.
    const tokens = Array.from(new Parser(lineCounter.addNewLine).parse(text));
    const deep = findTooDeep(tokens, MAX_NESTING_DEPTH);
    if (deep !== null) {
      return fail(position(lineCounter, deep.offset), `the document is nested too deeply: more than ${MAX_NESTING_DEPTH} levels of maps and lists`);
    }
    doc = composeOne(tokens, text.length);
  } catch (err) {
    return fail(null, `cannot parse the document: ${err instanceof Error ? err.message : String(err)}`);
  }

  const resolved = resolveFormat(text, format, sourceName);
  if (resolved !== 'yaml') {
    const json = readJson(text, doc, lineCounter);
    // Sniffed JSON that is not JSON may still be YAML (a flow map): let the YAML parser judge it.
    if (json.ok || resolved === 'json') return json;
  }

  if (doc.errors.length > 0) {
    const issues = doc.errors.map((error) => yamlIssue(error, lineCounter));
    return { ok: false, issues: issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0)) };
  }
  if (doc.contents === null) return fail({ line: 1, column: 1 }, 'document is empty');
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }), locate: yamlSourceLocator(doc, lineCounter) };
  } catch (err) {
    if (err instanceof ReferenceError) {
      const at = firstAliasOffset(doc);
      return fail(
        at === null ? null : position(lineCounter, at),
        `YAML aliases expand too much (more than ${MAX_ALIAS_COUNT} expansions); write the repeated parts out or use fewer aliases`,
      );
    }
    throw err;
  }
}

/** yaml's parseDocument over tokens already parsed: the first document, MULTIPLE_DOCS when more follow. */
function composeOne(tokens: readonly CST.Token[], length: number): Document.Parsed {
  let doc: Document.Parsed | undefined;
  for (const next of new Composer({ uniqueKeys: true }).compose(tokens, true, length)) {
    if (doc === undefined) doc = next;
    else {
      doc.errors.push(new YAMLParseError([next.range[0], next.range[1]], 'MULTIPLE_DOCS', 'Source contains multiple documents'));
      break;
    }
  }
  // compose(…, forceDoc) always yields a document.
  return doc!;
}

function resolveFormat(text: string, format: DocumentFormat, sourceName: string | undefined): 'yaml' | 'json' | 'sniffed-json' {
  if (format !== 'auto') return format;
  if (sourceName !== undefined && /\.json$/i.test(sourceName)) return 'json';
  if (sourceName !== undefined && /\.ya?ml$/i.test(sourceName)) return 'yaml';
  return /^\s*[{[]/.test(text) ? 'sniffed-json' : 'yaml';
}

function readJson(text: string, doc: Document.Parsed, lineCounter: LineCounter): ReadDocumentResult {
  try {
    const value: unknown = JSON.parse(text);
    // JSON is YAML 1.2, so the YAML parse gives positions; without it issues carry no line.
    return { ok: true, value, locate: doc.errors.length === 0 ? yamlSourceLocator(doc, lineCounter) : NO_SOURCE_POSITIONS };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const offset = jsonErrorOffset(text);
    return fail(offset === null ? null : position(lineCounter, offset), `invalid JSON: ${message}`);
  }
}

function yamlIssue(error: YAMLError, lineCounter: LineCounter): PipelineIssue {
  const at = position(lineCounter, error.pos[0]);
  const message =
    error.code === 'MULTIPLE_DOCS'
      ? 'only one YAML document is allowed; remove the `---` separator and what follows it'
      : `invalid YAML: ${error.message}`;
  return { path: '', line: at.line, column: at.column, message };
}

function firstAliasOffset(doc: Document.Parsed): number | null {
  let offset: number | null = null;
  visit(doc, {
    Alias(_key, node) {
      if (isAlias(node)) offset = node.range?.[0] ?? null;
      return visit.BREAK;
    },
  });
  return offset;
}

function position(lineCounter: LineCounter, offset: number): { line: number; column: number } {
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

function fail(at: { line: number; column: number } | null, message: string): ReadDocumentResult {
  return { ok: false, issues: [{ path: '', line: at?.line ?? null, column: at?.column ?? null, message }] };
}
