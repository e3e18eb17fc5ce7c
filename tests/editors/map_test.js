// The system map page (`lore graph --format html`) in headless Chromium, driven with playwright-core:
//   - SHOP (the example system): every service and every link is drawn inside the view; no request
//     leaves the page (file: only), no script error, no Content-Security-Policy violation;
//   - search by owner lists and highlights the service, Enter focuses it;
//   - a real click on a service focuses it (neighbours kept, the rest faded) and fills the side panel;
//     a click on a link shows its contracts with the deprecated rpc and links to files and lines;
//   - EVIL (a map whose names are script and markup): nothing runs, the names show as text;
//   - OPS (tests/ops_system.py): search by an alert's name finds its service (drawn with its SLO and
//     alert counts), whose panel lists the alert, the SLO and the pipelines, each linked to its file
//     and line, as is what they read.
// Screenshots and map_result.json go to $ARTIFACTS.
// Usage: NODE_PATH=<playwright-core's node_modules> CHROMIUM=/usr/bin/chromium ARTIFACTS=dir BROWSER_HOME=dir
//   node map_test.js SHOP.html EVIL.html OPS.html
const { chromium } = require('playwright-core');
const fs = require('fs');
const path = require('path');

const [SHOP, EVIL, OPS] = process.argv.slice(2);
const ART = process.env.ARTIFACTS;
const t0 = Date.now();
const secs = () => (Date.now() - t0) / 1000;
const log = (...a) => console.log(`[${secs().toFixed(1)}s]`, ...a);

async function open(browser, file, result, key) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 820 } });
  const seen = { requests: [], errors: [], csp: [], dialogs: [] };
  result[key] = seen;
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
    seen.requests.push(url);
    return route.abort();
  });
  page.on('console', (m) => { if (m.type() === 'error') seen.errors.push(m.text()); });
  page.on('pageerror', (e) => seen.errors.push(`pageerror: ${e.message}`));
  page.on('dialog', (d) => { seen.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const start = Date.now();
  await page.goto(`file://${file}`, { waitUntil: 'load' });
  await page.waitForFunction(() => window.loreMap && window.loreMap.ready, null, { timeout: 60000 });
  seen.ready_ms = Date.now() - start;
  return { page, seen };
}

// The page coordinates of a node's centre or an edge's midpoint (cytoscape rendered position + canvas box).
async function pointOf(page, selector, what) {
  return page.evaluate(([selector, what]) => {
    const cy = window.loreMap.cy;
    const ele = cy.$(selector);
    const box = document.getElementById('cy').getBoundingClientRect();
    const p = what === 'edge' ? ele.renderedMidpoint() : ele.renderedPosition();
    return { x: box.left + p.x, y: box.top + p.y };
  }, [selector, what]);
}

const panelText = (page) => page.locator('#panel').innerText();

(async () => {
  fs.mkdirSync(ART, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    env: { ...process.env, HOME: process.env.BROWSER_HOME, XDG_CONFIG_HOME: path.join(process.env.BROWSER_HOME, 'xdg') },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  const result = { ok: false, checks: {} };
  const check = (name, ok, detail) => {
    result.checks[name] = { ok: !!ok, s: secs(), detail };
    log(ok ? 'ok  ' : 'FAIL', name);
    if (!ok) throw new Error(`${name} failed: ${JSON.stringify(detail)}`);
  };
  let page;
  try {
    ({ page } = await open(browser, SHOP, result, 'shop'));
    // 1. everything drawn, inside the view
    result.drawn = await page.evaluate(() => {
      const cy = window.loreMap.cy;
      const ext = { w: cy.width(), h: cy.height() };
      const inside = (b) => b.x1 >= -1 && b.y1 >= -1 && b.x2 <= ext.w + 1 && b.y2 <= ext.h + 1 && b.w > 0 && b.h > 0;
      const name = (n) => window.loreMap.data.nodes.find((d) => d.id === n.id()).name;
      return {
        nodes: cy.nodes('.service, .repo').map((n) => ({ name: name(n), visible: n.visible(), inside: inside(n.renderedBoundingBox()) })),
        edges: cy.edges().map((e) => ({ source: name(e.source()), target: name(e.target()), label: e.data('label'),
          classes: e.classes(), visible: e.visible(), inside: inside(e.renderedBoundingBox()) })),
        groups: cy.nodes('.group').map((g) => g.data('label')),
      };
    });
    check('every service and link is drawn inside the view',
      result.drawn.nodes.length === 3 && result.drawn.edges.length === 3
      && [...result.drawn.nodes, ...result.drawn.edges].every((x) => x.visible && x.inside), result.drawn);
    await page.screenshot({ path: path.join(ART, 'map_overview.png') });

    // 2. search by owner, Enter focuses
    await page.click('#search');
    await page.keyboard.type('team-cart');
    await page.waitForSelector('#results li');
    result.search = {
      results: await page.locator('#results li').allInnerTexts(),
      matched: await page.evaluate(() => window.loreMap.cy.nodes('.match').map((n) => n.id())),
    };
    check('search by owner lists and highlights the service',
      result.search.results.length === 1 && result.search.results[0].startsWith('cart-service')
      && result.search.matched.join() === 'service:cart-service:cart-service', result.search);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('panel-title').textContent === 'cart-service');
    result.search.focused = await page.evaluate(() => window.loreMap.state.focused);
    check('Enter focuses the first match', result.search.focused === 'service:cart-service:cart-service', result.search);
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => document.getElementById('panel-title').textContent === 'System map');

    // 3. a real click on a service
    const at = await pointOf(page, '[id = "service:checkout-service:checkout-service"]', 'node');
    await page.mouse.click(at.x, at.y);
    await page.waitForFunction(() => document.getElementById('panel-title').textContent === 'checkout-service');
    const panel = await panelText(page);
    result.node_click = {
      panel,
      focused: await page.evaluate(() => window.loreMap.state.focused),
      faded: await page.evaluate(() => window.loreMap.cy.elements('.faded').length),
      labelled: await page.evaluate(() => window.loreMap.cy.edges('.labelled').length),
    };
    check('clicking a service focuses it and fills the side panel',
      result.node_click.focused === 'service:checkout-service:checkout-service'
      && /owner team-checkout/.test(panel) && /PROVIDES \(1\)[\s\S]*Checkout API/i.test(panel)
      && /CONSUMES \(1\)[\s\S]*shop\.cart\.v1/i.test(panel) && /Hotfix: retry GetCart/.test(panel)
      // its two links stay, the one between its neighbours (cart-service -> storefront) fades
      && result.node_click.labelled === 2 && result.node_click.faded === 1, result.node_click);
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(ART, 'map.png') });

    // 4. focus on a service with fewer neighbours fades the rest: search + click a result
    await page.click('#search');
    await page.fill('#search', '');
    await page.keyboard.type('storefront');
    await page.locator('#results li').first().click();
    await page.waitForFunction(() => document.getElementById('panel-title').textContent === 'storefront');

    // 5. a real click on a link
    await page.click('#fit');
    const mid = await pointOf(page, 'edge[source = "service:cart-service:cart-service"][target = "service:checkout-service:checkout-service"]', 'edge');
    await page.mouse.click(mid.x, mid.y);
    await page.waitForFunction(() => document.getElementById('panel-title').textContent.includes('→'));
    result.edge_click = {
      title: await page.locator('#panel-title').innerText(),
      panel: await panelText(page),
      hrefs: await page.$$eval('#panel a[href]', (as) => as.map((a) => a.getAttribute('href'))),
    };
    check('clicking a link shows its contracts, the deprecated rpc and links to files and lines',
      result.edge_click.title === 'cart-service → checkout-service' && /RemoveItem/.test(result.edge_click.panel)
      && /deprecated/.test(result.edge_click.panel)
      && result.edge_click.hrefs.some((h) => /^file:\/\/\/.*\/checkout-service\/checkout\/cart_client\.py#L27$/.test(h))
      && result.edge_click.hrefs.some((h) => /^file:\/\/\/.*\/contracts\/proto\/shop\/cart\/v1\/cart\.proto#L\d+$/.test(h)),
      result.edge_click);
    await page.screenshot({ path: path.join(ART, 'map_edge.png') });
    result.shop.csp = await page.evaluate(() => window.__csp);
    check('offline and clean: no request but file:, no error, no CSP violation',
      !result.shop.requests.length && !result.shop.errors.length && !result.shop.csp.length, result.shop);
    await page.close();

    // 6. hostile names stay text
    const evil = await open(browser, EVIL, result, 'evil');
    await evil.page.evaluate(() => window.loreMap.focus(window.loreMap.data.nodes[0].id));
    const evilOps = await evil.page.evaluate(() => ({
      slos: (document.querySelector('#panel-slos + ul') || {}).textContent,
      pipelines: (document.querySelector('#panel-pipelines + ul') || {}).textContent,
    }));
    await evil.page.evaluate(() => window.loreMap.focus('e0'));
    result.evil.state = await evil.page.evaluate(() => ({
      pwned: window.__pwned === undefined ? null : window.__pwned,
      images: document.querySelectorAll('img').length,
      scripts: document.querySelectorAll('script').length,
      title: document.getElementById('panel-title').textContent,
      panel: document.getElementById('panel').textContent,
    }));
    Object.assign(result.evil.state, evilOps);
    result.evil.csp = await evil.page.evaluate(() => window.__csp);
    check('hostile names are shown as text and nothing of them runs',
      result.evil.state.pwned === null && result.evil.state.images === 0 && result.evil.state.scripts === 6
      && !result.evil.dialogs.length && !result.evil.errors.length && !result.evil.csp.length
      && result.evil.state.panel.includes('</script><script>window.__pwned=1</script>')
      && (result.evil.state.slos || '').includes('onerror="window.__pwned=2"')
      && (result.evil.state.pipelines || '').includes('<script>window.__pwned=1</script>'), result.evil);
    await evil.page.screenshot({ path: path.join(ART, 'map_evil.png') });
    await evil.page.close();

    // 7. operational context: search by an alert's name, Enter, the panel's alerts, SLOs and pipelines
    const ops = await open(browser, OPS, result, 'ops');
    await ops.page.click('#search');
    await ops.page.keyboard.type('CheckoutOrdersFailing');
    await ops.page.waitForSelector('#results li');
    const opsResults = await ops.page.locator('#results li').allInnerTexts();
    await ops.page.keyboard.press('Enter');
    await ops.page.waitForFunction(() => document.getElementById('panel-title').textContent === 'checkout');
    const section = (id) => ops.page.evaluate((id) => {
      const list = document.querySelector(`#${id} + ul`);
      return { title: document.getElementById(id).textContent, text: list ? list.innerText : '',
        hrefs: list ? [...list.querySelectorAll('a[href]')].map((a) => a.getAttribute('href')) : [] };
    }, id);
    result.ops.panel = { results: opsResults, alerts: await section('panel-alerts'), slos: await section('panel-slos'),
      pipelines: await section('panel-pipelines'), text: await panelText(ops.page),
      label: await ops.page.evaluate(() => window.loreMap.cy.getElementById('service:checkout:checkout').data('label')) };
    const has = (list, re) => list.hrefs.some((h) => re.test(h));
    const { alerts, slos, pipelines } = result.ops.panel;
    check("a service's panel lists its alerts, SLOs and pipelines with links to files and lines",
      opsResults.length === 1 && opsResults[0].startsWith('checkout') && !/null|undefined/.test(result.ops.panel.text)
      && result.ops.panel.label === 'checkout\n1 SLO, 1 alert'
      && alerts.title === 'Alerts (1)' && /CheckoutOrdersFailing for 10m, severity page/.test(alerts.text)
      && /reads metric shop_checkout_orders_total/.test(alerts.text)
      && has(alerts, /^file:\/\/\/.*\/observability\/rules\/shop-alerts\.yaml#L9$/)
      && has(alerts, /^file:\/\/\/.*\/checkout\/app\/metrics\.py#L3$/)
      && slos.title === 'SLOs (1)' && /checkout-latency objective 99\.5/.test(slos.text)
      && /route POST \/orders\/checkout/.test(slos.text) && /names the service/.test(slos.text)
      && has(slos, /^file:\/\/\/.*\/observability\/slos\/checkout\.yaml#L4$/)
      && has(slos, /^file:\/\/\/.*\/checkout\/app\/api\.py#L18$/)
      && pipelines.title === 'Built and deployed by (2)' && /job deploy deploys checkout to environment production/.test(pipelines.text)
      && has(pipelines, /^file:\/\/\/.*\/checkout\/\.github\/workflows\/deploy\.yml#L13$/), result.ops.panel);
    await ops.page.screenshot({ path: path.join(ART, 'map_ops.png') });
    result.ops.csp = await ops.page.evaluate(() => window.__csp);
    check('the ops page is offline and clean too', !result.ops.requests.length && !result.ops.errors.length
      && !result.ops.csp.length, result.ops);
    result.ok = true;
  } catch (e) {
    result.error = String((e && e.stack) || e);
    log('ERROR', result.error);
    if (page) await page.screenshot({ path: path.join(ART, 'map_failure.png') }).catch(() => {});
  } finally {
    result.total_s = secs();
    fs.writeFileSync(path.join(ART, 'map_result.json'), JSON.stringify(result, null, 2));
    await browser.close().catch(() => {});
    process.exit(result.ok ? 0 : 1);
  }
})();
