/** Helpers of the browser tests: Debian's Chromium driven by playwright-core, and the CLI with a dashboard. */
import { spawn, type ChildProcess } from 'node:child_process';
import { chromium, type Browser } from 'playwright-core';

export const CLI = new URL('../bin/dmpemu.js', import.meta.url).pathname;

/** Headless Chromium with a fresh temporary profile (never a downloaded browser). */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export interface CliRun {
  child: ChildProcess;
  /** The URL the command printed (`dashboard: <url>`). */
  url: Promise<string>;
  out: () => string;
  exited: Promise<number | null>;
}

/** Start `dmpemu <args>`; its URL once it printed it. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  const url = new Promise<string>((resolve, reject) => {
    const look = (b: Buffer): void => {
      out += b;
      const m = /dashboard: (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    };
    child.stdout!.on('data', look);
    child.stderr!.on('data', look);
    void exited.then((code) => reject(new Error(`dmpemu ${args.join(' ')} exited (${code}) before printing a URL: ${out}`)));
  });
  url.catch(() => {});
  return { child, url, out: () => out, exited };
}
