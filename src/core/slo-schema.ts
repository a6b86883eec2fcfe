import { z } from "zod";
import { sloFileSchema } from "./slo-spec.js";

/** The SLO file format as JSON Schema (draft 2020-12), for editors and validators. */
export function sloJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(sloFileSchema, { io: "input" }),
    $id: "https://streamslo.dev/schema/slo.schema.json",
    title: "streamslo SLO file",
  };
}
