import { mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.js"

// The tests run the built `iocm` as a process, as users do: `test/utils/build.ts` builds it first.
export default mergeConfig(shared, { test: { globalSetup: ["test/utils/build.ts"] } })
