/**
 * The few Docker Engine API calls we make ourselves (ping, image inspect, container inspect), straight over
 * the daemon's unix socket with a short timeout, so "no daemon" and "no image" become clear errors in
 * milliseconds instead of a testcontainers discovery timeout.
 */
import http from 'node:http';

export function dockerSocketPath(): string {
  const host = process.env['DOCKER_HOST'];
  if (host?.startsWith('unix://')) return host.slice('unix://'.length);
  return '/var/run/docker.sock';
}

interface Reply { status: number; body: string }

function request(method: string, path: string, timeoutMs: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: dockerSocketPath(), method, path, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { if (body.length < 1 << 20) body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`docker API ${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export async function dockerPing(timeoutMs = 2000): Promise<{ ok: boolean; error?: string }> {
  try {
    const r = await request('GET', '/_ping', timeoutMs);
    return r.status === 200 ? { ok: true } : { ok: false, error: `HTTP ${r.status}` };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

export async function dockerServerVersion(): Promise<string | undefined> {
  try {
    const r = await request('GET', '/version', 3000);
    return r.status === 200 ? (JSON.parse(r.body) as { Version?: string }).Version : undefined;
  } catch {
    return undefined;
  }
}

export interface ImageInfo { readonly id: string; readonly labels: Readonly<Record<string, string>> }

export async function imageInspect(name: string): Promise<ImageInfo | undefined> {
  const r = await request('GET', `/images/${encodeURIComponent(name)}/json`, 5000);
  if (r.status === 404) return undefined;
  if (r.status !== 200) throw new Error(`docker image inspect ${name}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
  const j = JSON.parse(r.body) as { Id: string; Config?: { Labels?: Record<string, string> | null } };
  return { id: j.Id, labels: j.Config?.Labels ?? {} };
}

export async function containerExists(id: string): Promise<boolean> {
  const r = await request('GET', `/containers/${encodeURIComponent(id)}/json`, 5000);
  return r.status === 200;
}
