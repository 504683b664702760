/**
 * The simulator's defaults: the demo app, the platform's port, the largest request body.
 *
 * @internal
 */

/**
 * The app registered when no other is given; not a secret, it only opens the simulator.
 *
 * @internal
 */
export const demoApp: { readonly appId: string; readonly secret: string } = {
  appId: "iocm-demo-app",
  secret: "iocm-demo-secret"
}

/**
 * The port the real platform and the CLI listen on.
 *
 * @internal
 */
export const defaultPort = 8743

/**
 * The largest request body accepted unless told otherwise: 64 KiB.
 *
 * @internal
 */
export const defaultMaxBodySize = 64 * 1024
