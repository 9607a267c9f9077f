/**
 * The whole snapshot from data: each query panel of the dashboard drawn from its series, placed at its gridPos,
 * under a header naming the dashboard and the time range. Pure (no Prometheus, no files).
 */
import { panelOption, renderPanelSvg, type Series, type TimeRange } from "./chart.ts";
import { queryPanels, type Dashboard } from "./dashboard.ts";
import { cellFor, composePage, PAGE, type PageGeometry } from "./layout.ts";

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}

/** `seriesByPanel`: panel id → the series of all its targets, in target order. A missing id draws "No data". */
export function renderPage(d: Dashboard, seriesByPanel: ReadonlyMap<number, Series[]>, range: TimeRange, source: string, page: PageGeometry = PAGE): string {
  const panels = queryPanels(d).map((panel) => {
    const cell = cellFor(panel.gridPos, page);
    const option = panelOption(panel, seriesByPanel.get(panel.id) ?? [], range, cell);
    return { cell, svg: renderPanelSvg(option, cell.width, cell.height) };
  });
  const seconds = Math.round((range.end - range.start) / 1000);
  return composePage(d.title, `${clock(range.start)} – ${clock(range.end)} UTC (${seconds} s)  ·  ${source}  ·  variables: All`, panels, page);
}
