/**
 * One benchmark client in a process of its own (`npm run bench` starts one for our client and one for ssh2).
 * Run in the bench's own process, the two clients shared one V8 heap: whichever had run before changed when the
 * collector marked and swept for the other (a download from sshd saw 1–2 full collections per 512 MiB for ssh2
 * alone and 6 once our client had run in the same process), and ssh2's upload to the same sshd moved between
 * 350 and 830 MB/s with the work that came before it.
 *
 * Protocol: one JSON request per stdin line, `{ id, fn, args }` with `fn` a throughput.ts measurement; one JSON
 * answer per stdout line, `{ id, result }` (MB/s) or `{ id, error }`. The child prints `ready` first and ends with
 * stdin.
 */
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { oursDownload, oursUpload, ssh2Download, ssh2Upload } from './throughput.js';

/** What a worker can run, by name. */
export const MEASUREMENTS = { oursUpload, oursDownload, ssh2Upload, ssh2Download } as const;
export type Measurement = keyof typeof MEASUREMENTS;

interface Request { readonly id: number; readonly fn: Measurement; readonly args: unknown[] }

async function serve(): Promise<void> {
  const lines = createInterface({ input: process.stdin });
  process.stdout.write('ready\n');
  for await (const line of lines) {
    let req: Request;
    try {
      req = JSON.parse(line) as Request;
    } catch {
      continue;
    }
    const fn = MEASUREMENTS[req.fn] as ((...a: unknown[]) => Promise<number>) | undefined;
    try {
      if (!fn) throw new Error(`unknown measurement ${JSON.stringify(req.fn)}`);
      process.stdout.write(`${JSON.stringify({ id: req.id, result: await fn(...req.args) })}\n`);
    } catch (e) {
      process.stdout.write(`${JSON.stringify({ id: req.id, error: (e as Error).message })}\n`);
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await serve();
