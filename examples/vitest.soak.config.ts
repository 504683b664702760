import { mergeConfig } from "vitest/config"
import shared from "../vitest.shared.js"

// `pnpm test:soak`: fleets of example processes run for up to a minute, with Redis killed and
// processes paused; one at a time, so that the machine's load does not blur what they measure.
const config = mergeConfig(shared, { test: { name: "examples:soak", testTimeout: 180_000, fileParallelism: false } })
config.test!.include = ["test/**/*.soak.ts"]

export default config
