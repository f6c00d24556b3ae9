/**
 * The HTML report in a real browser: Debian's chromium, headless, driven by playwright-core (which downloads no
 * browser). The report comes from a real run: the conformance checks against `self:no-unimplemented`, our server
 * broken on purpose so that it never answers SSH_MSG_UNIMPLEMENTED (RFC 4253 §11.4), which fails some checks and
 * passes others. The test uses the filters (selects, text, the URL hash), opens a failing check and reads its
 * packet ladder diagram back from the rendered SVG, and saves screenshots under reports/browser/ (a CI artifact).
 * Fails, not skips, under CI=true when chromium is missing (`peers setup` installs it).
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { runConformance } from '../scenario/session.js';
import { selectChecks } from '../scenario/suite.js';
import type { RunSummary } from '../scenario/types.js';
import { writeReports } from './write.js';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
/** What works here as root in a container: no sandbox, no GPU, nothing phoning home. */
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const OUT = resolve('reports', 'browser');

describe('HTML report in headless chromium: filters and packet ladder diagrams', function () {
  this.timeout(120_000);
  let summary: RunSummary;
  let html: string;
  let profile: string;
  let context: BrowserContext;
  let page: Page;

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      if (process.env.CI === 'true') throw new Error(`chromium not found at ${CHROMIUM} (apt-get install chromium; \`ssh-harness peers setup\` does)`);
      this.skip();
    }
    const checks = await selectChecks({ suites: ['all'], grep: /^(bpp\.ignore-burst|bpp\.debug-after-kex|version\.|kex\.method\.curve25519-sha256$)/, roles: ['server'] });
    summary = await runConformance({ target: 'self:no-unimplemented', checks, suites: ['transport'], seed: 'browser-test' });
    mkdirSync(OUT, { recursive: true });
    html = writeReports(summary, OUT).html;
    const { chromium } = await import('playwright-core');
    profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, chromiumSandbox: false, args: FLAGS, viewport: { width: 1280, height: 900 } });
    page = context.pages()[0] ?? await context.newPage();
  });
  after(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  const shown = () => page.locator('#shown').textContent().then(Number);
  const visibleRows = () => page.locator('tr.row:not([hidden])').evaluateAll((rs) => rs.map((r) => ({ id: r.querySelector('code')!.textContent!, verdict: r.getAttribute('data-verdict')! })));

  it('the run has failing and passing checks to show', () => {
    const fails = summary.results.filter((r) => r.verdict === 'fail').map((r) => r.id);
    expect(fails).to.include.members(['bpp.ignore-burst', 'bpp.debug-after-kex']);
    expect(summary.counts.pass).to.be.greaterThan(2);
  });

  it('opens with every check shown; the verdict, level and text filters narrow the table and live in the URL', async () => {
    await page.goto(pathToFileURL(html).href);
    expect(await page.title()).to.equal('SSH conformance: self:no-unimplemented');
    expect(await shown()).to.equal(summary.counts.total);
    await page.selectOption('#f-verdict', 'fail');
    const fails = await visibleRows();
    expect(fails.map((r) => r.verdict)).to.deep.equal(Array(summary.counts.fail).fill('fail'));
    expect(await shown()).to.equal(summary.counts.fail);
    expect(new URL(page.url()).hash).to.equal('#verdict=fail');
    await page.fill('#f-text', 'burst');
    expect((await visibleRows()).map((r) => r.id)).to.deep.equal(['bpp.ignore-burst']);
    await page.click('#reset');
    await page.selectOption('#f-level', 'MUST');
    expect(await shown()).to.equal(summary.byLevel.MUST.total);
    await page.click('#reset');
    // a summary card filters by its verdict
    await page.click('.card.pass');
    expect(await shown()).to.equal(summary.counts.pass);
    await page.click('#reset');
    expect(await shown()).to.equal(summary.counts.total);
  });

  it('a link with filters in its hash opens filtered', async () => {
    await page.goto(`${pathToFileURL(html).href}#verdict=pass&q=version`);
    const rows = await visibleRows();
    expect(rows.length).to.be.greaterThan(0);
    expect(rows.every((r) => r.verdict === 'pass' && r.id.startsWith('version.'))).to.equal(true);
    expect(await page.inputValue('#f-text')).to.equal('version');
  });

  it('a failing check shows its packet ladder: lanes, messages in order with decoded fields, repeats collapsed, and where it failed', async () => {
    await page.goto(`${pathToFileURL(html).href}#verdict=fail&q=ignore-burst`);
    await page.locator('tr.row:not([hidden])').first().click();
    const svg = page.locator('tr.detail:not([hidden]) svg.ladder');
    expect(await svg.count()).to.equal(1);
    const box = (await svg.boundingBox())!;
    expect(box.width).to.equal(900);
    expect(box.height).to.be.greaterThan(300);
    const d = await svg.evaluate((el) => {
      const arrows = [...el.querySelectorAll('g.m')].map((g) => ({
        name: g.querySelector('.name')!.textContent!, fields: g.querySelector('.f')?.textContent ?? '', cls: g.getAttribute('class')!,
        y: Number(g.querySelector('line')!.getAttribute('y1')), x1: Number(g.querySelector('line')!.getAttribute('x1')),
      }));
      const band = el.querySelector('g.verdict.fail');
      return { lanes: [...el.querySelectorAll('g.hdr .r')].map((t) => t.textContent), arrows, band: band?.textContent ?? null, bandY: band ? Number(band.querySelector('rect')!.getAttribute('y')) : -1 };
    });
    expect(d.lanes).to.deep.equal(['client', 'server']);
    const names = d.arrows.map((a) => a.name);
    expect(names.slice(0, 4)).to.deep.equal(['SSH_MSG_KEXINIT', 'SSH_MSG_KEXINIT', 'SSH_MSG_KEX_ECDH_INIT', 'SSH_MSG_KEX_ECDH_REPLY']);
    // ours left to right (client lane x 200), the peer's right to left
    expect(d.arrows[0]).to.include({ cls: 'm ours', x1: 200 });
    expect(d.arrows[1]).to.include({ cls: 'm peer', x1: 740 });
    expect(d.arrows[0]!.fields).to.match(/^kex curve25519-sha256 .*cipher .*strict-kex/);
    expect(d.arrows[3]!.fields).to.match(/host key ssh-ed25519 · Q_S 32 bytes/);
    // the 200 IGNOREs are one arrow; the deliberate unknown message is dashed; the band comes after it
    const burst = d.arrows.find((a) => a.name === 'SSH_MSG_IGNORE ×200');
    expect(burst, names.join()).to.not.equal(undefined);
    const probe = d.arrows.find((a) => a.cls === 'm dev')!;
    expect(probe.fields).to.match(/deviation: /);
    expect(d.band).to.match(/expectation failed here: .*not answered/);
    expect(d.bandY).to.be.greaterThan(probe.y).and.greaterThan(burst!.y);
    // hovering an arrow shows every decoded field (SVG <title>)
    expect(await svg.locator('g.m').first().locator('title').textContent()).to.match(/^SSH_MSG_KEXINIT #0\n\{"cookie":/);
    await page.screenshot({ path: join(OUT, 'report.png'), fullPage: true });
    await svg.screenshot({ path: join(OUT, 'ladder.png') });
    expect(existsSync(join(OUT, 'report.png')) && existsSync(join(OUT, 'ladder.png'))).to.equal(true);
  });

  it('passing checks get no diagram; their message log is there as text', async () => {
    await page.goto(`${pathToFileURL(html).href}#verdict=pass`);
    await page.click('#expand');
    expect(await page.locator('tr.detail:not([hidden])').count()).to.equal(summary.counts.pass);
    expect(await page.locator('tr.detail:not([hidden]) svg.ladder').count()).to.equal(0);
    expect(await page.locator('tr.detail:not([hidden]) details[open] pre').first().textContent()).to.match(/SSH_MSG_KEXINIT/);
  });
});
