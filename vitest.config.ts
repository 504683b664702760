import { defineConfig } from "vitest/config"
import shared from "./vitest.shared.js"

export default defineConfig({
  test: {
    projects: ["packages/*", "examples"],
    maxWorkers: shared.test?.maxWorkers,
    reporters: ["default", "json"],
    outputFile: { json: ".vitest-report.json" }
  }
})
