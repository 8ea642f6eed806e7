/**
 * ECharts, once, for both sides. In the report's page it redraws each server-rendered chart
 * from the same option, so hovering shows exact values (without scripts the SVG stays as it is).
 * On the server, src/report/render.ts runs this same script for its `init` and draws the SVG
 * with it, so the package carries one copy of ECharts, not two. Bundled by scripts/build.mjs as
 * an IIFE whose exports land on `canaryCharts`; no Node APIs here.
 */
import { LineChart, ScatterChart } from 'echarts/charts';
import {
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  MarkLineComponent,
  TooltipComponent,
} from 'echarts/components';
import { init, use } from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { type Unit, withFormatters } from './units.js';

use([
  LineChart,
  ScatterChart,
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  MarkLineComponent,
  TooltipComponent,
  SVGRenderer,
]);

/** The few DOM members used here: tsconfig carries Node's types, not the DOM's. */
interface El {
  dataset: Record<string, string | undefined>;
  innerHTML: string;
  textContent: string | null;
}
interface Doc {
  querySelectorAll(selector: string): Iterable<El>;
  getElementById(id: string): El | null;
}
interface Win {
  addEventListener(type: string, listener: () => void): void;
}
const page = globalThis as unknown as { document?: Doc; window?: Win };

function hydrate(document: Doc, window: Win): void {
  const charts: { resize(): void }[] = [];
  for (const el of document.querySelectorAll('[data-chart]')) {
    const payload = document.getElementById(`${el.dataset.chart}-option`)?.textContent;
    if (!payload) continue;
    const { unit, option } = JSON.parse(payload) as { unit: Unit; option: Record<string, unknown> };
    el.innerHTML = '';
    const chart = init(el, null, { renderer: 'svg' });
    chart.setOption(withFormatters(option, unit));
    charts.push(chart);
  }
  window.addEventListener('resize', () => {
    for (const chart of charts) chart.resize();
  });
}

if (page.document && page.window) hydrate(page.document, page.window);

/** For the server-side render (src/report/render.ts). */
export { init };
