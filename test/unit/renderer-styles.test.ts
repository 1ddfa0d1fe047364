// The console's stylesheet against selectors that cost the resource table its frame rate. A rule whose
// compound after a sibling combinator is a bare element name (`.x div + div`) gives Chromium an
// invalidation set matched by tag: each row the stream changed restyled every row of the table
// (~400 elements, ~7 ms a frame while scrolling; found with a trace of npm run bench:ui).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const STYLES = join(__dirname, '..', '..', '..', 'renderer', 'src', 'styles.css');

/** Every selector of the sheet (at-rule preludes left out), comments removed. */
function selectorsOf(css: string): string[] {
  const text = css.replace(/\/\*[\s\S]*?\*\//g, '');
  const selectors: string[] = [];
  for (const match of text.matchAll(/([^{}]+)\{/g)) {
    const prelude = match[1]!.trim();
    if (prelude === '' || prelude.startsWith('@')) continue;
    selectors.push(...prelude.split(',').map((s) => s.trim()).filter((s) => s !== ''));
  }
  return selectors;
}

/** The compounds of a selector that follow a sibling combinator (+ or ~) and name only an element. */
function bareSiblingCompounds(selector: string): string[] {
  // Parentheses (:has(), :not()) are checked as selectors of their own.
  const inner = [...selector.matchAll(/\(([^()]*)\)/g)].flatMap((m) => m[1]!.split(',').flatMap((s) => bareSiblingCompounds(s.trim())));
  const flat = selector.replace(/\([^()]*\)/g, '()');
  const bare: string[] = [];
  for (const match of flat.matchAll(/[+~]\s*([^\s+~>]+)/g)) {
    const compound = match[1]!;
    if (!/[.#[]/.test(compound.replace(/::?[\w-]+(\(\))?/g, ''))) bare.push(compound);
  }
  return [...inner, ...bare];
}

describe('renderer stylesheet', () => {
  test('the checker finds a bare element after a sibling combinator, inside :has() too, and passes classes', () => {
    assert.deepEqual(bareSiblingCompounds('.form-errors div + div'), ['div']);
    assert.deepEqual(bareSiblingCompounds('li ~ li:hover'), ['li:hover']);
    assert.deepEqual(bareSiblingCompounds('.a:has(span + span)'), ['span']);
    assert.deepEqual(bareSiblingCompounds('.connection-row + .connection-row'), []);
    assert.deepEqual(bareSiblingCompounds('.field-pair:has(.field-narrow + .field-narrow)'), []);
    assert.deepEqual(bareSiblingCompounds('.table-row:hover .row-button'), []);
    assert.deepEqual(selectorsOf('/* a, b { */ .a, .b > c { x: 1 } @media (x) { .d { y: 2 } }'), ['.a', '.b > c', '.d']);
  });

  test('no selector of styles.css ends a sibling combinator on a bare element name', () => {
    const offenders = selectorsOf(readFileSync(STYLES, 'utf8')).filter((s) => bareSiblingCompounds(s).length > 0);
    assert.deepEqual(offenders, []);
  });
});
