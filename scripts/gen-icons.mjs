#!/usr/bin/env node
// Draws the application icon and writes resources/icons/: NxN.png for Linux (16…512, the set electron-builder
// installs into the hicolor theme) and icon.ico for Windows (16…128 as 32-bit DIBs, 256 as PNG, as Windows
// expects). No dependencies: a tiny rasteriser with 4×4 supersampling, PNG through node:zlib.
// Run: node scripts/gen-icons.mjs   (the generated files are committed; rerun only to change the drawing)
import { deflateSync } from 'node:zlib';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const outDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'resources', 'icons');
const PNG_SIZES = [16, 24, 32, 48, 64, 128, 256, 512];
const ICO_SIZES = [16, 24, 32, 48, 64, 128, 256];

// ---- the drawing, in unit coordinates (0..1, y down): two nodes and an address moving between them ----

const hex = (s) => [1, 3, 5].map((i) => parseInt(s.slice(i, i + 2), 16));
const TOP = hex('#2f7ad6');
const BOTTOM = hex('#163f73');
const WHITE = hex('#ffffff');
const ORANGE = hex('#ffb020');

function roundedRectDistance(x, y, x0, y0, x1, y1, r) {
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  const qx = Math.abs(x - cx) - ((x1 - x0) / 2 - r);
  const qy = Math.abs(y - cy) - ((y1 - y0) / 2 - r);
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r;
}

function insideTriangle(x, y, [ax, ay], [bx, by], [cx, cy]) {
  const d1 = (x - bx) * (ay - by) - (ax - bx) * (y - by);
  const d2 = (x - cx) * (by - cy) - (bx - cx) * (y - cy);
  const d3 = (x - ax) * (cy - ay) - (cx - ax) * (y - ay);
  const negative = d1 < 0 || d2 < 0 || d3 < 0;
  const positive = d1 > 0 || d2 > 0 || d3 > 0;
  return !(negative && positive);
}

const ARC = { cx: 0.5, cy: 0.64, r: 0.27, width: 0.085, fromDeg: 180, toDeg: 28 };

/** Colour (RGBA, 0..255) of the point (x, y), or null where transparent. */
function shade(x, y) {
  if (roundedRectDistance(x, y, 0.04, 0.04, 0.96, 0.96, 0.2) > 0) return null;
  let colour = TOP.map((top, i) => Math.round(top + (BOTTOM[i] - top) * y));
  // the two nodes
  if (Math.hypot(x - 0.25, y - 0.7) < 0.13 || Math.hypot(x - 0.75, y - 0.7) < 0.13) colour = WHITE;
  // the address on its way: an arc over the nodes, from the left one to an arrowhead above the right one
  const dx = x - ARC.cx;
  const dy = y - ARC.cy;
  const angle = (Math.atan2(-dy, dx) * 180) / Math.PI; // 0° = right, 90° = up
  if (Math.abs(Math.hypot(dx, dy) - ARC.r) < ARC.width / 2 && angle >= ARC.toDeg && angle <= ARC.fromDeg) colour = ORANGE;
  if (insideTriangle(x, y, [0.64, 0.47], [0.92, 0.47], [0.79, 0.62])) colour = ORANGE;
  return [...colour, 255];
}

/** RGBA pixels of the icon at size × size, 4×4 samples per pixel (premultiplied while averaging). */
function render(size) {
  const pixels = Buffer.alloc(size * size * 4);
  const SAMPLES = 4;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < SAMPLES; sy++) {
        for (let sx = 0; sx < SAMPLES; sx++) {
          const c = shade((px + (sx + 0.5) / SAMPLES) / size, (py + (sy + 0.5) / SAMPLES) / size);
          if (c === null) continue;
          r += c[0];
          g += c[1];
          b += c[2];
          a += 255;
        }
      }
      const o = (py * size + px) * 4;
      const covered = a / 255;
      if (covered > 0) {
        pixels[o] = Math.round(r / covered);
        pixels[o + 1] = Math.round(g / covered);
        pixels[o + 2] = Math.round(b / covered);
        pixels[o + 3] = Math.round(a / (SAMPLES * SAMPLES));
      }
    }
  }
  return pixels;
}

// ---- PNG ----

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

function encodePng(size, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // colour type: RGBA
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) rgba.copy(rows, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4); // filter 0 per row
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// ---- ICO: small sizes as 32-bit BGRA DIBs (bottom-up, with an empty AND mask), 256 as PNG ----

function encodeDib(size, rgba) {
  const info = Buffer.alloc(40);
  info.writeUInt32LE(40, 0);
  info.writeInt32LE(size, 4);
  info.writeInt32LE(size * 2, 8); // XOR bitmap + AND mask
  info.writeUInt16LE(1, 12);
  info.writeUInt16LE(32, 14);
  const xor = Buffer.alloc(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const from = (y * size + x) * 4;
      const to = ((size - 1 - y) * size + x) * 4;
      xor[to] = rgba[from + 2];
      xor[to + 1] = rgba[from + 1];
      xor[to + 2] = rgba[from];
      xor[to + 3] = rgba[from + 3];
    }
  }
  const andRowBytes = Math.ceil(size / 32) * 4;
  return Buffer.concat([info, xor, Buffer.alloc(andRowBytes * size)]);
}

function encodeIco(images) {
  const header = Buffer.alloc(6 + 16 * images.length);
  header.writeUInt16LE(1, 2); // type: icon
  header.writeUInt16LE(images.length, 4);
  let offset = header.length;
  images.forEach(({ size, data }, i) => {
    const entry = 6 + 16 * i;
    header[entry] = size >= 256 ? 0 : size;
    header[entry + 1] = size >= 256 ? 0 : size;
    header.writeUInt16LE(1, entry + 4); // planes
    header.writeUInt16LE(32, entry + 6); // bits per pixel
    header.writeUInt32LE(data.length, entry + 8);
    header.writeUInt32LE(offset, entry + 12);
    offset += data.length;
  });
  return Buffer.concat([header, ...images.map((image) => image.data)]);
}

mkdirSync(outDir, { recursive: true });
const rendered = new Map(PNG_SIZES.map((size) => [size, render(size)]));
for (const [size, rgba] of rendered) {
  writeFileSync(join(outDir, `${size}x${size}.png`), encodePng(size, rgba));
}
const icoImages = ICO_SIZES.map((size) => {
  const rgba = rendered.get(size) ?? render(size);
  return { size, data: size >= 256 ? encodePng(size, rgba) : encodeDib(size, rgba) };
});
writeFileSync(join(outDir, 'icon.ico'), encodeIco(icoImages));
console.log(`gen-icons: wrote ${PNG_SIZES.map((s) => `${s}x${s}.png`).join(', ')} and icon.ico to ${outDir}`);
