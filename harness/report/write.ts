/** Writes every report of a run into `reports/<run-id>/` (or the given directory). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RunSummary } from '../scenario/types.js';
import { toHtml } from './html.js';
import { toJUnit } from './junit.js';
import { toMarkdown } from './markdown.js';

export interface ReportFiles {
  readonly dir: string;
  readonly junit: string;
  readonly json: string;
  readonly markdown: string;
  readonly html: string;
}

export function writeReports(s: RunSummary, dir: string, o: { junit?: string; logs?: string } = {}): ReportFiles {
  mkdirSync(dir, { recursive: true });
  const files: ReportFiles = {
    dir,
    junit: o.junit ?? join(dir, 'junit.xml'),
    json: join(dir, 'report.json'),
    markdown: join(dir, 'summary.md'),
    html: join(dir, 'report.html'),
  };
  mkdirSync(dirname(files.junit), { recursive: true });
  writeFileSync(files.junit, toJUnit(s));
  writeFileSync(files.json, JSON.stringify(s, null, 1) + '\n');
  writeFileSync(files.markdown, toMarkdown(s, { html: 'report.html' }));
  writeFileSync(files.html, toHtml(s, dir));
  if (o.logs) writeFileSync(join(dir, 'target.log'), o.logs);
  return files;
}
