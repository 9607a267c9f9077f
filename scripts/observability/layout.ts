/**
 * The snapshot's page: panels placed by their Grafana gridPos (24 columns, rows of fixed height) under a header,
 * composed into one SVG, then rasterised to PNG by resvg. Pure apart from resvg's font lookup.
 */
import { Resvg } from "@resvg/resvg-js";
import type { GridPos } from "./dashboard.ts";
import { THEME } from "./chart.ts";

export interface PageGeometry {
  width: number;
  /** Pixels per Grafana grid row (Grafana draws 30 px + margins; charts need a little more to stay legible). */
  rowPx: number;
  gap: number;
  headerPx: number;
}

export const PAGE: PageGeometry = { width: 1800, rowPx: 40, gap: 8, headerPx: 56 };

export interface Cell {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Pixel box of a panel; Grafana's grid is 24 columns wide. */
export function cellFor(pos: GridPos, page: PageGeometry = PAGE): Cell {
  const column = (page.width - page.gap) / 24;
  return {
    x: Math.round(page.gap + pos.x * column),
    y: Math.round(page.headerPx + page.gap + pos.y * page.rowPx),
    width: Math.round(pos.w * column - page.gap),
    height: Math.round(pos.h * page.rowPx - page.gap),
  };
}

export function pageHeight(cells: Cell[], page: PageGeometry = PAGE): number {
  return Math.max(page.headerPx, ...cells.map((c) => c.y + c.height)) + page.gap;
}

/**
 * Ids made unique per panel: every ECharts chart numbers its clip paths and gradients from the same start, and in
 * one document the second `#zr0-c0` would clip with the first panel's rectangle.
 */
export function scopeIds(svg: string, prefix: string): string {
  return svg
    .replace(/\bid="([^"]+)"/g, `id="${prefix}-$1"`)
    .replace(/url\(#([^)]+)\)/g, `url(#${prefix}-$1)`)
    .replace(/\b(xlink:)?href="#([^"]+)"/g, (_, x: string | undefined, id: string) => `${x ?? ""}href="#${prefix}-${id}"`);
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!);
}

/** One SVG: header (title, subtitle), then each panel's SVG nested at its cell. */
export function composePage(title: string, subtitle: string, panels: { cell: Cell; svg: string }[], page: PageGeometry = PAGE): string {
  const height = pageHeight(panels.map((p) => p.cell), page);
  const font = 'font-family="DejaVu Sans"';
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${page.width}" height="${height}" viewBox="0 0 ${page.width} ${height}">`,
    `<rect width="${page.width}" height="${height}" fill="${THEME.background}"/>`,
    `<text x="${page.gap + 4}" y="26" ${font} font-size="20" font-weight="bold" fill="${THEME.text}">${escapeXml(title)}</text>`,
    `<text x="${page.gap + 4}" y="46" ${font} font-size="12" fill="${THEME.muted}">${escapeXml(subtitle)}</text>`,
  ];
  panels.forEach(({ cell, svg }, i) => {
    const inner = scopeIds(svg.replace(/^<\?xml[^>]*>\s*/, ""), `p${i}`).replace(/^<svg\b/, `<svg x="${cell.x}" y="${cell.y}"`);
    parts.push(`<rect x="${cell.x - 0.5}" y="${cell.y - 0.5}" width="${cell.width + 1}" height="${cell.height + 1}" fill="none" stroke="${THEME.border}"/>`, inner);
  });
  parts.push("</svg>");
  return parts.join("\n");
}

export function svgToPng(svg: string): Buffer {
  return new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" }, background: THEME.background }).render().asPng();
}
