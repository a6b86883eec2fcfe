import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { Chart } from "../core/report/chart-specs.js";

/**
 * Renders a Vega-Lite chart to a standalone SVG string, headless (Vega's SVG renderer needs no
 * canvas or browser), so reports are static files that open offline.
 */
export async function renderSvg(chart: Chart): Promise<string> {
  const compiled = compile(chart.spec as unknown as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
