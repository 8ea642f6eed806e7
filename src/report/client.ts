/**
 * Runs in the report's page: redraws each server-rendered chart with ECharts in the browser,
 * from the same option, so hovering shows exact values. Without scripts the SVG stays as it is.
 * Bundled by scripts/build.mjs for the browser; no Node APIs here.
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
const { document, window } = globalThis as unknown as { document: Doc; window: Win };

const charts: { resize(): void }[] = [];
for (const el of document.querySelectorAll('[data-chart]')) {
  const payload = document.getElementById(`${el.dataset.chart}-option`)?.textContent;
  if (!payload) continue;
  const { unit, option } = JSON.parse(payload) as { unit: Unit; option: Record<string, unknown> };
  el.innerHTML = '';
  const chart = init(el as never, null, { renderer: 'svg' });
  chart.setOption(withFormatters(option, unit) as never);
  charts.push(chart);
}
window.addEventListener('resize', () => {
  for (const chart of charts) chart.resize();
});
