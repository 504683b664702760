import { defineConfig } from "vitest/config"

// `pnpm test:soak`: the long wall-clock runs (`packages/*/test/**/*.soak.ts`, `examples/test/**/*.soak.ts`), kept out of `pnpm test`.
export default defineConfig({
  test: {
    projects: ["packages/*/vitest.soak.config.ts", "examples/vitest.soak.config.ts"],
    reporters: ["default", "json"],
    outputFile: { json: ".vitest-soak-report.json" }
  }
})
