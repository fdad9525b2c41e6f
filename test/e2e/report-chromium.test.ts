/**
 * The HTML report as people see it: loaded into headless Chromium (Debian's `chromium` package,
 * driven by playwright-core, which never downloads a browser), with every network request refused,
 * its SVG charts must have a visible size and its tables must be there.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import { packageRoot } from '../../lib/addon/loader.js';
import { runCli } from '../helpers/cli.js';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env.CI)
  throw new Error(`${CHROMIUM} is missing on CI: .ci/run installs Debian's chromium package for this test`);
const fixtures = join(packageRoot, 'test', 'fixtures', 'trtexec');

describe.skipIf(!available)(
  `HTML report in headless Chromium${available ? '' : ` (skipped: ${CHROMIUM} not found; apt-get install chromium)`}`,
  () => {
    it('renders its SVG charts with a visible size and shows its tables, with no network access', async () => {
      const folder = mkdtempSync(join(tmpdir(), 'report-chromium-'));
      const results = join(folder, 'results.json');
      expect(runCli(['bench', '--trtexec', join(fixtures, 'trtexec-10.log'), '--json', results]).status).toBe(0);
      // Charts are drawn only for curves (issue 18: no one-point charts), and a trtexec log is one
      // point: each file gets a second batch size, and a second host's file is merged as in use.
      type Run = {
        id: string;
        point: { batch: number };
        target: { batch: number };
        metrics: { latency: Record<string, unknown> };
      };
      type File = { environment: { host: { hostname: string } }; runs: Run[] };
      const first = JSON.parse(readFileSync(results, 'utf8')) as File;
      const withSecondBatch = (file: File) => {
        const run = structuredClone(file.runs[0]!);
        run.id = `${run.id}-b16`;
        run.point.batch = 16;
        run.target.batch = 16;
        const latency = run.metrics.latency as {
          min: number;
          max: number;
          mean: number;
          median: number;
          percentiles: { value: number }[];
        };
        for (const key of ['min', 'max', 'mean', 'median'] as const) latency[key] *= 1.8;
        for (const entry of latency.percentiles) entry.value *= 1.8;
        file.runs.push(run);
        return file;
      };
      writeFileSync(results, JSON.stringify(withSecondBatch(first)));
      const second = structuredClone(first);
      second.environment.host.hostname = 'second-host';
      writeFileSync(join(folder, 'second.json'), JSON.stringify(second));
      const html = join(folder, 'report.html');
      expect(runCli(['report', results, join(folder, 'second.json'), '--html', html]).status).toBe(0);

      const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'chromium-profile-')), {
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      });
      try {
        const requested: string[] = [];
        await context.route('**/*', (route) => {
          const url = route.request().url();
          requested.push(url);
          return url.startsWith('file:') ? route.continue() : route.abort();
        });
        const page = await context.newPage();
        await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });
        const charts = await page.locator('figure.chart svg').all();
        expect(charts.length).toBe(2);
        for (const chart of charts) {
          const box = await chart.boundingBox();
          expect(box!.width).toBeGreaterThan(100);
          expect(box!.height).toBeGreaterThan(100);
          expect(await chart.locator('path, text').count()).toBeGreaterThan(10);
        }
        expect(await page.locator('section#runs table.report-table tbody tr').count()).toBe(4);
        expect(await page.locator('section#environments table.report-table tbody tr').count()).toBe(2);
        expect(await page.locator('section#runs th').first().innerText()).toBe('#');
        expect(requested.filter((url) => !url.startsWith('file:'))).toEqual([]);
      } finally {
        await context.close();
      }
    });
  },
);
