import { redact } from './secret';

/**
 * Where the library reports what it does. Node-RED passes the node's own log methods; the default is
 * silent. Every line goes through `redact` on its way out, so even a mistake upstream cannot print a
 * token.
 */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

export function safeLogger(logger: Partial<Logger> | undefined): Logger {
  if (!logger) return silentLogger;
  const wrap = (fn: ((m: string) => void) | undefined) => (fn ? (m: string) => fn(redact(m)) : () => undefined);
  return {
    debug: wrap(logger.debug?.bind(logger)),
    info: wrap(logger.info?.bind(logger)),
    warn: wrap(logger.warn?.bind(logger)),
    error: wrap(logger.error?.bind(logger)),
  };
}
