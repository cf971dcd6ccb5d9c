import type { TestProject } from 'vitest/node';
import { NatsServer } from '../coordinator/src/run/natsServer.ts';

// Every test run gets its own nats-server on a free port; tests never use a shared one.
let server: NatsServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  server = await NatsServer.start();
  project.provide('natsUrl', server.url);
}

export async function teardown(): Promise<void> {
  await server?.dispose();
}

declare module 'vitest' {
  export interface ProvidedContext {
    natsUrl: string;
  }
}
