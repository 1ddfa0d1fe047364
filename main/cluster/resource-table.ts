// Bulk import and export of resource definitions (`ipfo resource import|export`, the API's
// resource.import and resource.export): reading a JSON array or a CSV table into rows with their line
// numbers, checking every row with the cluster's own validator (validate.ts) plus the rules that span
// rows (a name or an address twice in the file, or already in the cluster), and writing the specs back
// out so that an export imports unchanged. Pure: no Node module, no store.
//
// JSON: an array of objects with the fields of ResourceSpec (the API's ResourceSpecInput: "ip" may be
// "a.b.c.d/nn" instead of ip + prefix; omitted optional fields take their defaults). A row's line is the
// line its object starts on.
//
// CSV (RFC 4180; a UTF-8 BOM, CRLF or LF, blank lines between rows are all fine): a header row, then one
// resource per row. Columns (any order, each at most once; name and ip required, any other may be left
// out or left empty for its default):
//   name                  the resource name
//   ip                    a.b.c.d/nn or an IPv6 address/nn in any RFC 4291 spelling (or without /nn and a prefix column)
//   prefix                1..32 (IPv6 1..128), only when ip has no /nn
//   owners                possible owners, separated by spaces (empty: every node)
//   preferred             ordered preferred owners, separated by spaces
//   failback              never | immediate | HH-HH (a window of local hours, 22-06 wraps midnight)
//   interfaces            node=ifname pairs separated by spaces
//   enabled               true | false (false: defined offline, as `resource add --offline`)
//   announce-form         request | reply | both
//   defend                never | once | always
//   announce-count        1..10
//   announce-interval-ms  10..60000
//   announce-refresh-sec  1..86400 (empty: no periodic re-announcement)
//   retries               0..10 (empty: 1), ban-for-sec 1..604800 (empty: 600), failover-threshold
//                         COUNT/WINDOW such as 5/1h (empty: no limit) — the failure policy
//   maintenance-until     end of a maintenance window, ISO 8601 UTC (2026-12-04T15:00:00.000Z) or
//                         wall-clock ms
//   group, apart-from     the group the resource belongs to, and the groups it is kept apart from
//                         (separated by spaces): every member of a group in the file and in the cluster
//                         names the same apart-from list, and a group has at most 32 members
// Lists are separated by spaces because node and interface names can never contain one, so a cell
// needs no quoting. A row with more or fewer cells than the header is an error (field: the row).
//
// Bounds: at most MAX_IMPORT_BYTES of text and MAX_IMPORT_ROWS rows; a longer file is refused whole.
import type { FailbackPolicy, NodeName, ResourceSpec } from './model';
import { validateResourceSpec, type FieldError } from './validate';
import { formatCheck, parseCheck, type HealthCheck, type HealthSpec } from '../../preload/contract/health';
import { formatThreshold, parseThreshold } from '../../preload/contract/failure-policy';
import { MAX_GROUP_MEMBERS } from '../../preload/contract/groups';

export const MAX_IMPORT_BYTES = 32 * 1024 * 1024;
export const MAX_IMPORT_ROWS = 100_000;
/** The most problems kept for one row (a row with 64 unknown owners needs no 64 lines). */
export const MAX_ISSUES_PER_ROW = 8;

export type TableFormat = 'json' | 'csv';
export const TABLE_FORMATS: readonly TableFormat[] = ['json', 'csv'];

/** One row of the file as read: where it starts and the resource definition it gives (not yet checked). */
export interface TableRow {
  /** 1-based line of the file the row starts on (for the API: the row's index). */
  line: number;
  input: Record<string, unknown>;
}

/** A problem with one row (or the whole file: field ''), fit to print as "FILE:LINE: field: message". */
export interface RowIssue {
  line: number;
  /** The CSV column or the JSON field; '' for the row or file as a whole. */
  field: string;
  message: string;
}

export interface ParsedTable {
  rows: TableRow[];
  /** Rows that could not even be read (a bad cell, the wrong number of cells); their lines are not in `rows`. */
  issues: RowIssue[];
}

export interface CheckedRow {
  line: number;
  spec: ResourceSpec;
}

export interface CheckedTable {
  valid: CheckedRow[];
  /** Every problem of every bad row, in line order. */
  issues: RowIssue[];
  /** How many rows are bad. */
  badRows: number;
}

/** What a row is checked against: the cluster's nodes and the resources it has. */
export interface TableContext {
  nodes: readonly NodeName[];
  existing: readonly Pick<ResourceSpec, 'name' | 'ip' | 'group' | 'apartFrom'>[];
}

// --- CSV columns -------------------------------------------------------------------------------------

export const CSV_COLUMNS = [
  'name', 'ip', 'prefix', 'owners', 'preferred', 'failback', 'interfaces', 'enabled', 'announce-form', 'defend',
  'announce-count', 'announce-interval-ms', 'announce-refresh-sec', 'maintenance-until',
  'checks', 'check-interval-ms', 'check-timeout-ms', 'fall', 'rise',
  'retries', 'ban-for-sec', 'failover-threshold', 'group', 'apart-from',
] as const;
type CsvColumn = (typeof CSV_COLUMNS)[number];

/** The columns that make up a resource's `health` (its checks and their timing), by the part they set. */
const HEALTH_PART_OF_COLUMN: Partial<Record<CsvColumn, keyof HealthSpec>> = {
  checks: 'checks',
  'check-interval-ms': 'intervalMs',
  'check-timeout-ms': 'timeoutMs',
  fall: 'fall',
  rise: 'rise',
};
/** Checks in one cell, as `--check` spells them, between " | " (a JSON array of checks is read too). */
const CHECKS_SEPARATOR = ' | ';

/** The columns an export writes (prefix is inside ip). */
const EXPORT_COLUMNS: readonly CsvColumn[] = CSV_COLUMNS.filter((column) => column !== 'prefix');

const FIELD_OF_COLUMN: Record<CsvColumn, keyof ResourceSpec> = {
  checks: 'health',
  'check-interval-ms': 'health',
  'check-timeout-ms': 'health',
  fall: 'health',
  rise: 'health',
  name: 'name',
  ip: 'ip',
  prefix: 'prefix',
  owners: 'possibleOwners',
  preferred: 'preferredOwners',
  failback: 'failback',
  interfaces: 'interfaces',
  enabled: 'enabled',
  'announce-form': 'announceForm',
  defend: 'defendPolicy',
  'announce-count': 'announceCount',
  'announce-interval-ms': 'announceIntervalMs',
  'announce-refresh-sec': 'announceRefreshSec',
  'maintenance-until': 'maintenanceUntil',
  retries: 'retries',
  'ban-for-sec': 'banForSec',
  'failover-threshold': 'failoverThreshold',
  group: 'group',
  'apart-from': 'apartFrom',
};

/** The CSV column a validator field ("possibleOwners", "failback.startHour", "interfaces.n1") was read from. */
export function csvColumnOf(field: string): string {
  const [top = '', part] = field.split('.');
  if (top === 'health') return CSV_COLUMNS.find((c) => HEALTH_PART_OF_COLUMN[c] === part) ?? 'checks';
  const column = CSV_COLUMNS.find((c) => FIELD_OF_COLUMN[c] === top);
  return column ?? field;
}

function isCsvColumn(text: string): text is CsvColumn {
  return (CSV_COLUMNS as readonly string[]).includes(text);
}

const MAX_SHOWN = 40;
/** Untrusted text in a message: one line, bounded. */
function shown(text: string): string {
  return JSON.stringify(text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}...` : text);
}

// --- Reading -----------------------------------------------------------------------------------------

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function tooBig(text: string): RowIssue | null {
  // Characters, not bytes: a bound on work, and every byte is at least part of a character.
  if (text.length > MAX_IMPORT_BYTES) return { line: 1, field: '', message: `the file is larger than ${MAX_IMPORT_BYTES / (1024 * 1024)} MiB; split it` };
  return null;
}

function tooManyRows(): RowIssue {
  return { line: 1, field: '', message: `the file has more than ${MAX_IMPORT_ROWS} rows; split it` };
}

/** Reads a file's text as `format`. Never throws for bad input. */
export function parseTable(text: string, format: TableFormat): ParsedTable {
  const big = tooBig(text);
  if (big !== null) return { rows: [], issues: [big] };
  return format === 'json' ? parseJsonTable(stripBom(text)) : parseCsvTable(stripBom(text));
}

/** The format a file name suggests (.json, .csv), or null. */
export function formatOfFileName(name: string): TableFormat | null {
  const lower = name.toLowerCase();
  if (lower.endsWith('.json')) return 'json';
  if (lower.endsWith('.csv')) return 'csv';
  return null;
}

/** 1-based line of a character offset. */
function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * Where each element of a top-level JSON array starts (character offsets), for text JSON.parse accepted.
 * A scan over strings and nesting, no second parser: the text is known to be valid JSON here.
 */
function arrayElementOffsets(text: string): number[] {
  const offsets: number[] = [];
  let depth = 0;
  let expectValue = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      if (depth === 1 && expectValue) {
        offsets.push(i);
        expectValue = false;
      }
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') continue;
    if (depth === 1 && expectValue) {
      offsets.push(i);
      expectValue = false;
    }
    if (c === '[' || c === '{') {
      depth++;
      if (depth === 1 && c === '[') expectValue = true;
    } else if (c === ']' || c === '}') {
      depth--;
    } else if (c === ',' && depth === 1) {
      expectValue = true;
    }
  }
  return offsets;
}

/**
 * Where JSON.parse gave up, as a line: its message names a position only for some errors (V8 says
 * `Unexpected token '}', ..."` without one), so the text is scanned again for the first offset that
 * cannot continue a JSON value. Iterative (a stack of containers), so deep nesting cannot overflow.
 */
function jsonSyntaxLine(text: string, message: string): number {
  const position = /position (\d+)/.exec(message);
  if (position) return lineAt(text, Number(position[1]));
  return lineAt(text, jsonErrorOffset(text));
}

const JSON_NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// JSON forbids raw control characters inside a string: the class must name them.
// eslint-disable-next-line no-control-regex
const JSON_STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

/** The offset of the first character that makes `text` not JSON (text.length when it ends too early). */
export function jsonErrorOffset(text: string): number {
  const stack: Array<'[' | '{'> = [];
  let i = 0;
  const skip = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const match = (pattern: RegExp): boolean => {
    pattern.lastIndex = i;
    if (!pattern.test(text)) return false;
    i = pattern.lastIndex;
    return true;
  };
  // The states: expecting a value, or what may follow a value (',' or a closing bracket).
  for (;;) {
    // A value.
    skip();
    const c = text[i];
    if (c === '[' || c === '{') {
      stack.push(c);
      i++;
      skip();
      if (c === '{') {
        if (text[i] === '}') {
          stack.pop();
          i++;
        } else {
          if (!match(JSON_STRING)) return i;
          skip();
          if (text[i] !== ':') return i;
          i++;
          continue;
        }
      } else if (text[i] === ']') {
        stack.pop();
        i++;
      } else {
        continue;
      }
    } else if (c === '"') {
      if (!match(JSON_STRING)) return i;
    } else if (text.startsWith('true', i) || text.startsWith('null', i)) {
      i += 4;
    } else if (text.startsWith('false', i)) {
      i += 5;
    } else if (!match(JSON_NUMBER)) {
      return i;
    }
    // After a value.
    for (;;) {
      skip();
      const top = stack.at(-1);
      if (top === undefined) return i; // trailing text after the whole value (or the end: a scan of valid JSON)
      if (text[i] === ',') {
        i++;
        if (top === '{') {
          skip();
          if (!match(JSON_STRING)) return i;
          skip();
          if (text[i] !== ':') return i;
          i++;
        }
        break;
      }
      if ((top === '[' && text[i] === ']') || (top === '{' && text[i] === '}')) {
        stack.pop();
        i++;
        continue;
      }
      return i;
    }
  }
}

function parseJsonTable(text: string): ParsedTable {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { rows: [], issues: [{ line: jsonSyntaxLine(text, message), field: '', message: `not valid JSON: ${message.split('\n')[0]!.slice(0, 200)}` }] };
  }
  if (!Array.isArray(value)) return { rows: [], issues: [{ line: 1, field: '', message: 'a JSON import must be an array of resource definitions ([{ "name": ..., "ip": ... }, ...])' }] };
  if (value.length > MAX_IMPORT_ROWS) return { rows: [], issues: [tooManyRows()] };
  const offsets = arrayElementOffsets(text);
  const lines: number[] = [];
  // One pass over the text for every element's line (lineAt per element would be quadratic).
  let line = 1;
  let at = 0;
  for (const offset of offsets) {
    for (; at < offset; at++) if (text.charCodeAt(at) === 10) line++;
    lines.push(line);
  }
  const rows: TableRow[] = [];
  const issues: RowIssue[] = [];
  (value as unknown[]).forEach((element, index) => {
    const elementLine = lines[index] ?? 1;
    if (typeof element !== 'object' || element === null || Array.isArray(element)) {
      issues.push({ line: elementLine, field: '', message: `each element must be an object with the fields of a resource (got ${element === null ? 'null' : Array.isArray(element) ? 'a list' : typeof element})` });
      return;
    }
    rows.push({ line: elementLine, input: element as Record<string, unknown> });
  });
  return { rows, issues };
}

/** RFC 4180 records with the line each starts on; a broken quote is an issue, not a throw. */
function csvRecords(text: string): { records: Array<{ line: number; cells: string[]; quoted: boolean[] }>; issue: RowIssue | null } {
  const records: Array<{ line: number; cells: string[]; quoted: boolean[] }> = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const startLine = line;
    const cells: string[] = [];
    const quoted: boolean[] = [];
    for (;;) {
      let cell = '';
      let wasQuoted = false;
      // Blanks before a quote are allowed (and dropped), as spreadsheets write "a, "b"".
      let j = i;
      while (j < n && (text[j] === ' ' || text[j] === '\t')) j++;
      if (text[j] === '"') {
        wasQuoted = true;
        i = j + 1;
        for (;;) {
          if (i >= n) return { records, issue: { line: startLine, field: '', message: 'a quoted cell is never closed (a " is missing)' } };
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              cell += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n') line++;
          cell += c;
          i++;
        }
        while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
        if (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          return { records, issue: { line, field: '', message: 'text after a quoted cell\'s closing " (write "" for a quote inside a cell)' } };
        }
      } else {
        while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          if (text[i] === '"') return { records, issue: { line, field: '', message: 'a " inside an unquoted cell (quote the whole cell and write "" for the quote)' } };
          cell += text[i];
          i++;
        }
        cell = cell.trim();
      }
      cells.push(cell);
      quoted.push(wasQuoted);
      if (i < n && text[i] === ',') {
        i++;
        continue;
      }
      // End of the record: CRLF, LF, a lone CR or the end of the text.
      if (text[i] === '\r') i++;
      if (text[i] === '\n') i++;
      line++;
      break;
    }
    const blank = cells.length === 1 && cells[0] === '' && !quoted[0];
    if (!blank) records.push({ line: startLine, cells, quoted });
    if (records.length > MAX_IMPORT_ROWS + 1) return { records, issue: tooManyRows() };
  }
  return { records, issue: null };
}

function parseCsvTable(text: string): ParsedTable {
  const { records, issue } = csvRecords(text);
  if (issue !== null && issue.message.startsWith('the file has more')) return { rows: [], issues: [issue] };
  const issues: RowIssue[] = issue === null ? [] : [issue];
  const header = records[0];
  if (header === undefined) {
    if (issues.length === 0) issues.push({ line: 1, field: '', message: `the file is empty: a CSV import needs a header row (${CSV_COLUMNS.join(',')})` });
    return { rows: [], issues };
  }
  const columns: CsvColumn[] = [];
  const headerIssues: RowIssue[] = [];
  header.cells.forEach((cell, index) => {
    const name = cell.trim().toLowerCase();
    if (!isCsvColumn(name)) headerIssues.push({ line: header.line, field: `column ${index + 1}`, message: `unknown column ${shown(cell)} (columns: ${CSV_COLUMNS.join(', ')})` });
    else if (columns.includes(name)) headerIssues.push({ line: header.line, field: name, message: `column ${shown(name)} appears twice` });
    else columns.push(name);
  });
  for (const required of ['name', 'ip'] as const) {
    if (!columns.includes(required) && headerIssues.length === 0) headerIssues.push({ line: header.line, field: '', message: `the header has no ${required} column (the first row must name the columns: ${CSV_COLUMNS.join(',')})` });
  }
  // Without a good header no row can be read: say what is wrong with it and stop.
  if (headerIssues.length > 0) return { rows: [], issues: [...headerIssues, ...issues] };
  const rows: TableRow[] = [];
  for (const record of records.slice(1)) {
    if (record.cells.length !== columns.length) {
      issues.push({ line: record.line, field: '', message: `the row has ${record.cells.length} cells, the header ${columns.length} (a list in a cell is separated by spaces, not commas)` });
      continue;
    }
    const input: Record<string, unknown> = {};
    const cellIssues: RowIssue[] = [];
    columns.forEach((column, index) => {
      const cell = record.cells[index]!;
      const parsed = readCell(column, cell);
      const healthPart = HEALTH_PART_OF_COLUMN[column];
      if (parsed.ok) {
        if (parsed.value !== undefined && healthPart !== undefined) ((input.health ??= {}) as Record<string, unknown>)[healthPart] = parsed.value;
        else if (parsed.value !== undefined) input[FIELD_OF_COLUMN[column]] = parsed.value;
      } else {
        cellIssues.push({ line: record.line, field: column, message: parsed.message });
      }
    });
    if (cellIssues.length > 0) issues.push(...cellIssues);
    else rows.push({ line: record.line, input });
  }
  issues.sort((a, b) => a.line - b.line);
  return { rows, issues };
}

type CellValue = { ok: true; value: unknown } | { ok: false; message: string };

/** The last moment a Date can hold (ECMA-262: 8.64e15 ms after the epoch). */
const MAX_DATE_MS = 8.64e15;
const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?Z$/;
const FAILBACK_WINDOW = /^(\d{1,2})-(\d{1,2})$/;

function words(cell: string): string[] {
  return cell.split(/[ \t]+/).filter((word) => word !== '');
}

/** A cell as the value of its field; an empty cell is the field's default (absent). */
function readCell(column: CsvColumn, cell: string): CellValue {
  const text = cell.trim();
  if (text === '') return { ok: true, value: undefined };
  switch (column) {
    case 'name':
    case 'ip':
      return { ok: true, value: text };
    case 'prefix':
    case 'announce-count':
    case 'announce-interval-ms':
    case 'announce-refresh-sec':
    case 'check-interval-ms':
    case 'check-timeout-ms':
    case 'fall':
    case 'rise':
    case 'retries':
    case 'ban-for-sec':
      // The validator checks the range; here only that it is a whole number at all.
      return /^\d{1,9}$/.test(text) ? { ok: true, value: Number(text) } : { ok: false, message: `${column} must be a whole number (got ${shown(text)})` };
    case 'owners':
    case 'preferred':
    case 'apart-from':
      return { ok: true, value: words(text) };
    case 'group':
      return { ok: true, value: text };
    case 'interfaces': {
      const map = new Map<string, string>();
      for (const pair of words(text)) {
        const equals = pair.indexOf('=');
        if (equals <= 0 || equals === pair.length - 1) return { ok: false, message: `interfaces wants node=ifname pairs separated by spaces, such as "n1=eth1 n2=eth1" (got ${shown(pair)})` };
        const node = pair.slice(0, equals);
        if (map.has(node)) return { ok: false, message: `node ${shown(node)} is given twice` };
        map.set(node, pair.slice(equals + 1));
      }
      // fromEntries makes own properties: a node named "__proto__" stays a key (the validator names it), not a prototype.
      return { ok: true, value: Object.fromEntries(map) };
    }
    case 'failback': {
      if (text === 'never' || text === 'immediate') return { ok: true, value: { mode: text } };
      const window = FAILBACK_WINDOW.exec(text);
      // Hours out of range or equal are the validator's to name (failback.startHour, failback.endHour).
      if (window) return { ok: true, value: { mode: 'window', startHour: Number(window[1]), endHour: Number(window[2]) } };
      return { ok: false, message: `failback must be never, immediate or a window of hours such as 22-06 (got ${shown(text)})` };
    }
    case 'enabled':
      if (text === 'true') return { ok: true, value: true };
      if (text === 'false') return { ok: true, value: false };
      return { ok: false, message: `enabled must be true or false (got ${shown(text)})` };
    case 'announce-form':
    case 'defend':
      return { ok: true, value: text };
    case 'checks': {
      if (text.startsWith('[')) {
        try {
          return { ok: true, value: JSON.parse(text) as unknown };
        } catch {
          return { ok: false, message: `checks starting with "[" must be a JSON array of checks (got ${shown(text)})` };
        }
      }
      const checks: HealthCheck[] = [];
      for (const part of text.split(CHECKS_SEPARATOR.trim())) {
        const parsed = parseCheck(part);
        if (!parsed.ok) return { ok: false, message: parsed.error };
        checks.push(parsed.check);
      }
      return { ok: true, value: checks };
    }
    case 'failover-threshold': {
      const parsed = parseThreshold(text);
      return parsed.ok ? { ok: true, value: parsed.threshold } : { ok: false, message: `failover-threshold: ${parsed.error} (got ${shown(text)})` };
    }
    case 'maintenance-until': {
      // Wall-clock ms as well: what an export writes for a time beyond what a date can print.
      if (/^\d{1,16}$/.test(text)) return { ok: true, value: Number(text) };
      const match = ISO_UTC.exec(text);
      const ms = match ? Date.parse(text) : Number.NaN;
      // Date.parse rolls 2026-02-30 over to March: the text must be what the time prints back as.
      if (!Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 19) !== text.slice(0, 19)) {
        return { ok: false, message: `maintenance-until must be a UTC time such as 2026-12-04T15:00:00.000Z (got ${shown(text)})` };
      }
      return { ok: true, value: ms };
    }
  }
}

// --- Checking ----------------------------------------------------------------------------------------

/**
 * Every row against the cluster's rules (validate.ts, with the cluster's nodes) and the rules across
 * rows: a name (ignoring case) or an address only once in the file and not already in the cluster.
 * `fieldName` maps a validator field to what the file calls it (CSV: the column). Linear in rows +
 * existing resources.
 */
export function checkTable(rows: readonly TableRow[], context: TableContext, fieldName: (field: string) => string = (field) => field): CheckedTable {
  const existingNames = new Map<string, string>();
  const existingIps = new Map<string, string>();
  for (const spec of context.existing) {
    existingNames.set(spec.name.toLowerCase(), spec.name);
    existingIps.set(spec.ip, spec.name);
  }
  const namesInFile = new Map<string, number>();
  const ipsInFile = new Map<string, number>();
  // A group's members and apart-from list: the cluster's first, then the file's rows as they are read.
  const groupMembers = new Map<string, number>();
  const groupApart = new Map<string, { list: string; where: string }>();
  for (const spec of context.existing) {
    if (spec.group === undefined) continue;
    groupMembers.set(spec.group, (groupMembers.get(spec.group) ?? 0) + 1);
    if (!groupApart.has(spec.group)) groupApart.set(spec.group, { list: (spec.apartFrom ?? []).join(' '), where: 'its members in the cluster' });
  }
  const valid: CheckedRow[] = [];
  const issues: RowIssue[] = [];
  let badRows = 0;
  const noExisting = { nodes: context.nodes, existing: [] };
  for (const row of rows) {
    const errors: FieldError[] = [];
    const validation = validateResourceSpec(row.input, noExisting);
    if (!validation.ok) errors.push(...validation.errors);
    const name = typeof row.input.name === 'string' ? row.input.name : undefined;
    const ip = validation.ok ? validation.spec.ip : undefined;
    if (name !== undefined && name !== '') {
      const key = name.toLowerCase();
      const other = existingNames.get(key);
      const earlier = namesInFile.get(key);
      if (other !== undefined) errors.push({ field: 'name', message: `a resource named ${shown(other)} already exists` });
      else if (earlier !== undefined) errors.push({ field: 'name', message: `the name ${shown(name)} is already used on line ${earlier}` });
      else namesInFile.set(key, row.line);
    }
    if (ip !== undefined) {
      const other = existingIps.get(ip);
      const earlier = ipsInFile.get(ip);
      if (other !== undefined) errors.push({ field: 'ip', message: `${ip} is already the address of resource ${shown(other)}` });
      else if (earlier !== undefined) errors.push({ field: 'ip', message: `${ip} is already the address on line ${earlier}` });
      else ipsInFile.set(ip, row.line);
    }
    if (validation.ok && validation.spec.group !== undefined && errors.length === 0) {
      const group = validation.spec.group;
      const list = (validation.spec.apartFrom ?? []).join(' ');
      const known = groupApart.get(group);
      if ((groupMembers.get(group) ?? 0) >= MAX_GROUP_MEMBERS) errors.push({ field: 'group', message: `group ${shown(group)} has ${MAX_GROUP_MEMBERS} members already, the most a group has` });
      else if (known !== undefined && known.list !== list) errors.push({ field: 'apartFrom', message: `the members of group ${shown(group)} name the same apart-from groups (${known.where}: ${known.list === '' ? 'none' : shown(known.list)})` });
      else {
        groupMembers.set(group, (groupMembers.get(group) ?? 0) + 1);
        if (known === undefined) groupApart.set(group, { list, where: `line ${row.line}` });
      }
    }
    if (errors.length > 0 || !validation.ok) {
      badRows++;
      for (const error of errors.slice(0, MAX_ISSUES_PER_ROW)) issues.push({ line: row.line, field: fieldName(error.field), message: error.message });
      continue;
    }
    valid.push({ line: row.line, spec: validation.spec });
  }
  return { valid, issues, badRows };
}

/** Both steps: the file's text to checked specs, every problem with its line (read problems first by line). */
export function readResourceTable(text: string, format: TableFormat, context: TableContext): CheckedTable {
  const parsed = parseTable(text, format);
  const checked = checkTable(parsed.rows, context, format === 'csv' ? csvColumnOf : (field) => field);
  const issues = [...parsed.issues, ...checked.issues].sort((a, b) => a.line - b.line);
  const unreadLines = new Set(parsed.issues.map((issue) => issue.line));
  return { valid: checked.valid, issues, badRows: checked.badRows + unreadLines.size };
}

// --- Writing -----------------------------------------------------------------------------------------

/** A spec with its fields in one order (as validate.ts returns them), so equal specs print alike. */
function canonical(spec: ResourceSpec): ResourceSpec {
  return {
    name: spec.name,
    ip: spec.ip,
    prefix: spec.prefix,
    possibleOwners: [...spec.possibleOwners],
    preferredOwners: [...spec.preferredOwners],
    failback: spec.failback.mode === 'window' ? { mode: 'window', startHour: spec.failback.startHour, endHour: spec.failback.endHour } : { mode: spec.failback.mode },
    interfaces: Object.fromEntries(Object.entries(spec.interfaces).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    enabled: spec.enabled,
    announceForm: spec.announceForm,
    defendPolicy: spec.defendPolicy,
    ...(spec.announceCount === undefined ? {} : { announceCount: spec.announceCount }),
    ...(spec.announceIntervalMs === undefined ? {} : { announceIntervalMs: spec.announceIntervalMs }),
    ...(spec.announceRefreshSec === undefined ? {} : { announceRefreshSec: spec.announceRefreshSec }),
    ...(spec.maintenanceUntil === undefined ? {} : { maintenanceUntil: spec.maintenanceUntil }),
    ...(spec.health === undefined ? {} : { health: { checks: spec.health.checks.map(canonicalCheck), intervalMs: spec.health.intervalMs, timeoutMs: spec.health.timeoutMs, fall: spec.health.fall, rise: spec.health.rise } }),
    ...(spec.retries === undefined ? {} : { retries: spec.retries }),
    ...(spec.banForSec === undefined ? {} : { banForSec: spec.banForSec }),
    ...(spec.failoverThreshold === undefined ? {} : { failoverThreshold: { count: spec.failoverThreshold.count, windowSec: spec.failoverThreshold.windowSec } }),
    ...(spec.group === undefined ? {} : { group: spec.group }),
    ...(spec.apartFrom === undefined ? {} : { apartFrom: [...spec.apartFrom] }),
  };
}

function canonicalCheck(check: HealthCheck): HealthCheck {
  switch (check.kind) {
    case 'tcp': return { kind: 'tcp', host: check.host, port: check.port };
    case 'http': return check.expectStatus === undefined ? { kind: 'http', url: check.url } : { kind: 'http', url: check.url, expectStatus: check.expectStatus };
    case 'exec': return { kind: 'exec', argv: [...check.argv] };
    case 'gateway': return check.ip === undefined ? { kind: 'gateway' } : { kind: 'gateway', ip: check.ip };
  }
}

/** The checks' cell: their `--check` spellings, or a JSON array when one of them cannot be spelled so and read back the same. */
function checksCell(checks: readonly HealthCheck[]): string {
  const spelled = checks.map(formatCheck);
  const readsBack = spelled.every((text, i) => !text.includes(CHECKS_SEPARATOR.trim()) && JSON.stringify(parseCheck(text)) === JSON.stringify({ ok: true, check: canonicalCheck(checks[i]!) }));
  return readsBack ? spelled.join(CHECKS_SEPARATOR) : JSON.stringify(checks.map(canonicalCheck));
}

function byName(a: ResourceSpec, b: ResourceSpec): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** A JSON array, one resource per element, sorted by name; ends with a newline. */
export function formatJsonTable(specs: readonly ResourceSpec[]): string {
  const sorted = [...specs].sort(byName).map(canonical);
  if (sorted.length === 0) return '[]\n';
  return `[\n${sorted.map((spec) => `  ${JSON.stringify(spec)}`).join(',\n')}\n]\n`;
}

function hours(failback: FailbackPolicy): string {
  if (failback.mode !== 'window') return failback.mode;
  return `${String(failback.startHour).padStart(2, '0')}-${String(failback.endHour).padStart(2, '0')}`;
}

/** A cell as RFC 4180 wants it: quoted when it holds a comma, a quote, a line break or outer blanks. */
function csvCell(text: string): string {
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function cellOf(column: CsvColumn, spec: ResourceSpec): string {
  switch (column) {
    case 'name': return spec.name;
    case 'ip': return `${spec.ip}/${spec.prefix}`;
    case 'prefix': return '';
    case 'owners': return spec.possibleOwners.join(' ');
    case 'preferred': return spec.preferredOwners.join(' ');
    case 'failback': return hours(spec.failback);
    case 'interfaces': return Object.entries(canonical(spec).interfaces).map(([node, ifname]) => `${node}=${ifname}`).join(' ');
    case 'enabled': return String(spec.enabled);
    case 'announce-form': return spec.announceForm;
    case 'defend': return spec.defendPolicy;
    case 'announce-count': return spec.announceCount === undefined ? '' : String(spec.announceCount);
    case 'announce-interval-ms': return spec.announceIntervalMs === undefined ? '' : String(spec.announceIntervalMs);
    case 'announce-refresh-sec': return spec.announceRefreshSec === undefined ? '' : String(spec.announceRefreshSec);
    case 'checks': return spec.health === undefined ? '' : checksCell(spec.health.checks);
    case 'check-interval-ms': return spec.health === undefined ? '' : String(spec.health.intervalMs);
    case 'check-timeout-ms': return spec.health === undefined ? '' : String(spec.health.timeoutMs);
    case 'fall': return spec.health === undefined ? '' : String(spec.health.fall);
    case 'rise': return spec.health === undefined ? '' : String(spec.health.rise);
    case 'retries': return spec.retries === undefined ? '' : String(spec.retries);
    case 'ban-for-sec': return spec.banForSec === undefined ? '' : String(spec.banForSec);
    case 'failover-threshold': return spec.failoverThreshold === undefined ? '' : formatThreshold(spec.failoverThreshold);
    case 'group': return spec.group ?? '';
    case 'apart-from': return (spec.apartFrom ?? []).join(' ');
    case 'maintenance-until': {
      if (spec.maintenanceUntil === undefined) return '';
      return spec.maintenanceUntil <= MAX_DATE_MS ? new Date(spec.maintenanceUntil).toISOString() : String(spec.maintenanceUntil);
    }
  }
}

/** A CSV table with a header (every column but prefix), sorted by name, CRLF-free (LF); ends with a newline. */
export function formatCsvTable(specs: readonly ResourceSpec[]): string {
  const lines = [EXPORT_COLUMNS.join(',')];
  for (const spec of [...specs].sort(byName)) lines.push(EXPORT_COLUMNS.map((column) => csvCell(cellOf(column, spec))).join(','));
  return `${lines.join('\n')}\n`;
}

export function formatTable(specs: readonly ResourceSpec[], format: TableFormat): string {
  return format === 'json' ? formatJsonTable(specs) : formatCsvTable(specs);
}
