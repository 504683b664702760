/**
 * The README's snippet, typechecked (keep the two in sync).
 */
import { TokenService } from "@iocm/cache"
import { IocmAuth, PlatformConfig } from "@iocm/core"
import { IocmHttp } from "@iocm/http"
import { TokenStore } from "@iocm/redis"
import { Effect, Layer } from "effect"

// IOCM_REDIS_URL and IOCM_STORE_KEY (32 random bytes: `openssl rand -base64 32`), besides the platform's IOCM_*.
const TokensLive = TokenService.layerConfig().pipe(
  Layer.provide(TokenStore.layerRedisConfig()),
  Layer.provide(IocmAuth.layer),
  Layer.provide([IocmHttp.layerConfig(), PlatformConfig.layerConfig()])
)

export const main = () => Effect.runPromise(TokenService.get.pipe(Effect.provide(TokensLive)))
