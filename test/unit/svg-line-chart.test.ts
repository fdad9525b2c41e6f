import { describe, expect, it } from 'vitest';
import { niceStep, renderLineChart } from '../../lib/bench/report/svg-line-chart.js';

const base = { title: 'Latency vs batch size', xName: 'batch size', yName: 'latency (ms)', width: 760, height: 380 };

/** The numbers of an SVG attribute on every element that has it, in document order. */
const attributes = (svg: string, name: string) =>
  [...svg.matchAll(new RegExp(` ${name}="([^"]*)"`, 'g'))].map((match) => match[1]!);

describe('the report line chart (hand-written SVG)', () => {
  it('picks round y-axis steps (1, 2 or 5 times a power of ten) for any maximum', () => {
    expect([0.034, 0.9, 7, 28.16, 12366, 0, -1, Number.NaN].map((max) => niceStep(max))).toEqual([
      0.01, 0.2, 2, 10, 5000, 1, 1, 1,
    ]);
  });

  it('draws one axis from zero with labelled ticks, every category, each series as a line with its points, and a legend', () => {
    const svg = renderLineChart({
      ...base,
      categories: ['1', '4', '16'],
      series: [
        {
          name: 'median',
          points: [
            ['1', 0.04],
            ['4', 0.14],
            ['16', 0.59],
          ],
        },
        {
          name: 'p99',
          points: [
            ['1', 0.17],
            ['4', 4.31],
            ['16', 28.16],
          ],
        },
      ],
    });
    expect(
      svg.startsWith(
        '<svg xmlns="http://www.w3.org/2000/svg" width="760" height="380" viewBox="0 0 760 380" role="img" aria-label="Latency vs batch size">',
      ),
    ).toBe(true);
    expect(svg.endsWith('</svg>')).toBe(true);
    const texts = [...svg.matchAll(/<text [^>]*>([^<]*)<\/text>/g)].map((match) => match[1]);
    expect(texts).toEqual([
      'Latency vs batch size',
      '0',
      '10',
      '20',
      '30',
      '1',
      '4',
      '16',
      'batch size',
      'latency (ms)',
      'median',
      'p99',
    ]);
    expect(svg.match(/<circle /g)).toHaveLength(6);
    expect(svg.match(/stroke-width="2" fill="none"/g)).toHaveLength(4); // two lines, two legend keys
    // Points of one category share an x; a larger value is drawn higher (a smaller y).
    const cx = attributes(svg, 'cx').map(Number);
    const cy = attributes(svg, 'cy').map(Number);
    expect(cx.slice(0, 3)).toEqual(cx.slice(3));
    expect(cy[5]).toBeLessThan(cy[4]!);
    expect(cy[4]).toBeLessThan(cy[3]!);
    expect(Math.min(...cy)).toBeGreaterThanOrEqual(50); // 28.16 stays inside the plot, below the title
  });

  it('skips a missing value and joins the neighbours; a one-point series is a point without a line', () => {
    const svg = renderLineChart({
      ...base,
      categories: ['1', '2', '4'],
      series: [
        {
          name: 'p50',
          points: [
            ['1', 1],
            ['4', 3],
          ],
        },
        { name: 'only', points: [['2', 2]] },
      ],
    });
    expect(svg.match(/<circle /g)).toHaveLength(3);
    const lines = [...svg.matchAll(/<path d="(M[^"]*L[^"]*)" stroke="#5470c6"/g)].map((match) => match[1]);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.match(/L/g)).toHaveLength(1);
  });

  it('escapes the texts it draws, so a host or model name cannot inject markup', () => {
    const svg = renderLineChart({
      ...base,
      title: 'a <script>"x"</script> & b',
      categories: ['<1>'],
      series: [{ name: "o'neil", points: [['<1>', 1]] }],
    });
    expect(svg).not.toContain('<script');
    expect(svg).toContain('a &lt;script&gt;&quot;x&quot;&lt;/script&gt; &amp; b');
    expect(svg).toContain('&lt;1&gt;');
    expect(svg).toContain('o&#39;neil');
  });

  it('wraps a legend of long names into centred rows inside the width', () => {
    const names = [
      'host-a / NVIDIA A100-SXM4-40GB / tensorrt fp16',
      'host-b / NVIDIA L4 / tensorrt fp16',
      'host-c / AMD EPYC / cpu fp32',
    ];
    const svg = renderLineChart({
      ...base,
      categories: ['1', '2'],
      series: names.map((name) => ({
        name,
        points: [
          ['1', 1],
          ['2', 2],
        ] as [string, number][],
      })),
    });
    const legendTexts = [
      ...svg.matchAll(
        /<text x="([\d.]+)" y="([\d.]+)" dominant-baseline="central" font-family="sans-serif" font-size="11"[^>]*>([^<]*)</g,
      ),
    ];
    expect(legendTexts.map((match) => match[3])).toEqual(names);
    expect(new Set(legendTexts.map((match) => match[2])).size).toBeGreaterThan(1);
    for (const match of legendTexts) expect(Number(match[1]) + match[3]!.length * 6.2).toBeLessThanOrEqual(760);
  });
});
