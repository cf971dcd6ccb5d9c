import type { Server } from 'node:net';
import { UsageError } from '../scenario/usageError.ts';

/**
 * Listen on host:port (0: a free one). What the address cannot do is bad input, named by the flag
 * that gave it: `portFlag` names the port's flag and value (`--dashboard 8080`, `--listen
 * 127.0.0.1:4222`); an unknown host or one of no interface here is `--listen <host>`'s.
 */
export function listenOn(server: Server, host: string, port: number, portFlag: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') reject(new UsageError(`${portFlag}: port ${port} is in use on ${host}`));
      else if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') reject(new UsageError(`--listen ${host}: cannot listen on this address (${e.code})`));
      else if (e.code === 'EACCES') reject(new UsageError(`${portFlag}: not allowed to listen on port ${port} (EACCES)`));
      else reject(new Error(`cannot listen on ${host}:${port}: ${e.message}`));
    });
    server.listen(port, host, () => resolve());
  });
}
