import { mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.js"

// `mergeConfig` concatenates arrays: the soak's `include` replaces the suite's instead.
const config = mergeConfig(shared, { test: { name: "cache:soak", testTimeout: 180_000 } })
config.test!.include = ["test/**/*.soak.ts"]

export default config
