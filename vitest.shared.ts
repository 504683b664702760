import { availableParallelism } from "node:os"
import type { ViteUserConfig } from "vitest/config"

// Inside the workspace the `@iocm/*` packages resolve to their `.ts` sources through the
// `@iocm/source` export condition (their `types`/`default` conditions point at the built `dist/`).
// Vitest adds its own server conditions to these, and passes them to its workers as `--conditions`.
const conditions = ["@iocm/source"]

const config: ViteUserConfig = {
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    sequence: { concurrent: false },
    // Most test files wait on I/O (child processes, servers on loopback, wall-clock sleeps), not on
    // the CPU: one more worker than cores keeps a 2-core machine busy (84 s → 34 s for the suite there).
    maxWorkers: Math.max(3, availableParallelism())
  }
}

export default config
