/**
 * Installs the exit/signal cleanup handlers (servers/cleanup.ts) before testcontainers is loaded.
 * testcontainers brings signal-exit, whose SIGINT/SIGTERM/SIGHUP listener re-raises the signal
 * only when it is the last listener left; cleanup.ts re-raises only when no listener is left. Run
 * in the other order, each leaves the ending to the other and Ctrl-C no longer ends the process.
 * Imported by container.ts ahead of testcontainers, so the cleanup listener runs first.
 */
import { registerCleanup } from '../cleanup.js';

registerCleanup(() => undefined)();
