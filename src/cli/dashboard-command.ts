import { writeFileSync } from "node:fs";
import { grafanaDashboard } from "../core/slo/grafana-dashboard.js";
import { EXIT } from "./exit-codes.js";
import { productionSpec } from "./rules-command.js";

export interface DashboardFlags {
  output?: string;
  title?: string;
  datasource?: string;
}

/** Grafana dashboard JSON for the SLO file: SLIs, budget remaining, burn rates, alerts. */
export async function dashboardCommand(file: string, f: DashboardFlags): Promise<number> {
  const spec = productionSpec(file);
  const text = `${JSON.stringify(grafanaDashboard(spec, { title: f.title, datasourceUid: f.datasource }), null, 2)}\n`;
  if (f.output) writeFileSync(f.output, text);
  else process.stdout.write(text);
  return EXIT.ok;
}
