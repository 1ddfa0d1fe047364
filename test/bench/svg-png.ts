// An SVG document to a PNG file through Debian's Chromium (playwright-core; no browser download):
// the charts are drawn as SVG by pure code, and a browser is the one renderer at hand.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_FLAGS, CHROMIUM_PATH } from '../lab/browser';

export async function writeSvgAsPng(svg: string, width: number, height: number, path: string): Promise<void> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_FLAGS, timeout: 30_000 });
  try {
    const page = await browser.newPage({ viewport: { width, height } });
    await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
    const png = await page.screenshot({ clip: { x: 0, y: 0, width, height } });
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, png);
  } finally {
    await browser.close();
  }
}
