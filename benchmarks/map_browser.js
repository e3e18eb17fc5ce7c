// The map benchmark's browser part (benchmarks/map.py): headless Chromium (Debian) via playwright-core.
// For each run, in a fresh page: a trivial baseline page (one script setting a flag) and the map page,
// both from disk, each timed from navigation to ready (the map: its script has laid out and drawn);
// then, on the map, the time to the next painted frame, a search typed into the box until its results
// show, a real click on a service until its side panel shows, and a zoom until the frame after it.
// Prints one JSON object. Usage: NODE_PATH=<playwright-core's node_modules> CHROMIUM=/usr/bin/chromium
//   node map_browser.js MAP.html BASELINE.html RUNS
const { chromium } = require('playwright-core');

const [MAP, BASELINE, RUNS] = process.argv.slice(2);
const frames = (page, n) => page.evaluate((n) => new Promise((resolve) => {
  const step = (k) => (k ? requestAnimationFrame(() => step(k - 1)) : resolve());
  step(n);
}), n);

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--no-first-run'],
  });
  const runs = [];
  try {
    for (let i = 0; i < Number(RUNS || 3); i++) {
      const run = {};
      const context = await browser.newContext({ viewport: { width: 1400, height: 860 } });
      const page = await context.newPage();
      let t = Date.now();
      await page.goto(`file://${BASELINE}`);
      await page.waitForFunction(() => window.baselineReady === true);
      run.baseline_ms = Date.now() - t;

      t = Date.now();
      await page.goto(`file://${MAP}`);
      await page.waitForFunction(() => window.loreMap && window.loreMap.ready, null, { timeout: 120000 });
      run.ready_ms = Date.now() - t;
      await frames(page, 2);
      run.painted_ms = Date.now() - t;
      run.page = await page.evaluate(() => window.loreMap.state.timings);
      run.elements = await page.evaluate(() => ({ nodes: window.loreMap.cy.nodes('.service, .repo').length,
        edges: window.loreMap.cy.edges().length }));

      t = Date.now();
      await page.fill('#search', 'team-07');
      await page.waitForSelector('#results li');
      run.search_ms = Date.now() - t;
      run.search_hits = await page.evaluate(() => window.loreMap.state.matches.length);
      await page.keyboard.press('Escape');

      const target = await page.evaluate(() => {
        const cy = window.loreMap.cy;
        const node = cy.nodes('.service')[Math.floor(cy.nodes('.service').length / 2)];
        const box = document.getElementById('cy').getBoundingClientRect();
        const p = node.renderedPosition();
        return { id: node.id(), name: window.loreMap.data.nodes.find((n) => n.id === node.id()).name,
          x: box.left + p.x, y: box.top + p.y };
      });
      t = Date.now();
      await page.mouse.click(target.x, target.y);
      await page.waitForFunction((name) => document.getElementById('panel-title').textContent === name, target.name);
      await frames(page, 1);
      run.focus_click_ms = Date.now() - t;
      run.focused = await page.evaluate(() => window.loreMap.state.focused) === target.id;

      t = Date.now();
      await page.evaluate(() => {
        const cy = window.loreMap.cy;
        cy.zoom({ level: cy.zoom() * 1.5, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } });
      });
      await frames(page, 2);
      run.zoom_frame_ms = Date.now() - t;
      runs.push(run);
      await context.close();
    }
    console.log(JSON.stringify({ ok: true, runs }));
  } catch (e) {
    console.log(JSON.stringify({ ok: false, error: String((e && e.stack) || e), runs }));
  } finally {
    await browser.close();
  }
})();
