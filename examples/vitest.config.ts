import { mergeConfig } from "vitest/config"
import shared from "../vitest.shared.js"

// Each test here runs examples as child processes (several at once for a fleet): on a loaded 2-core
// machine one can take far longer than the suite's default 30 s.
export default mergeConfig(shared, { test: { testTimeout: 90_000 } })
