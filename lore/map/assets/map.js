// The system map page: the SystemMap JSON (lore/query/system_map.py, inlined by lore/map/html.py) drawn
// with Cytoscape.js and the fCoSE layout (bundled in the page). Search, focus on click, a side panel per
// service (contracts, history, alerts, SLOs, pipelines) or edge with links to files and lines. Every string from a repository reaches the page as
// text (textContent, canvas labels), never as markup. In a VS Code webview, links and clicks on nodes
// and edges ask the extension to open the file (postMessage) instead of following a file: link.
(function () {
  'use strict';
  const t0 = performance.now();
  const data = JSON.parse(document.getElementById('lore-map-data').textContent);
  const vscode = typeof acquireVsCodeApi === 'function' ? acquireVsCodeApi() : null;
  const LARGE = data.edges.length > 800 || data.nodes.length > 150;
  const $ = (id) => document.getElementById(id);
  const state = { focused: null, matches: [], timings: {} };
  // Decode the compact form (lore/map/html.py page_data): edges name nodes by index, contracts and
  // entities are tables, sites are [repo, path, line].
  data.edges.forEach((e, i) => {
    e.id = `e${i}`;
    e.source = data.nodes[e.source].id;
    e.target = data.nodes[e.target].id;
  });
  const byId = new Map(data.nodes.map((n) => [n.id, n]));
  const edgeById = new Map(data.edges.map((e) => [e.id, e]));
  const asSite = (s) => (s ? { repo: s[0], path: s[1], line: s[2] } : null);
  function expand(list) {
    return list.map(([ci, cflags, uses]) => {
      const c = data.contracts[ci];
      const out = uses.map(([ei, count, sites]) => {
        const e = data.entities[ei];
        return { name: e.name, kind: e.kind, declared: asSite(e.declared), flags: e.flags, notes: e.notes, count,
          sites: (sites || []).map(asSite) };
      });
      return { name: c.name, protocol: c.protocol, declared: asSite(c.declared), flags: cflags, uses: out,
        count: out.reduce((a, u) => a + u.count, 0) };
    });
  }
  // Links to files: file:// or vscode:// URIs from the repo roots, or an http(s) template checked by
  // lore; every piece of repository text in them is percent-encoded.
  const enc = (t) => encodeURIComponent(t).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const encPath = (p) => p.split('/').map(enc).join('/');
  function href(site) {
    if (!site || data.links === 'none') return null;
    const line = site.line === null || site.line === undefined ? null : site.line + 1;
    if (data.links === 'file' || data.links === 'vscode') {
      const root = data.repos[site.repo];
      if (!root) return null;
      let full = encPath(`${root.replace(/\/+$/, '')}/${site.path}`);
      if (!full.startsWith('/')) full = `/${full}`;
      return data.links === 'file' ? `file://${full}${line ? `#L${line}` : ''}` : `vscode://file${full}${line ? `:${line}:1` : ''}`;
    }
    if (!/^https?:\/\//.test(data.links)) return null;
    return data.links.replace(/\{repo\}/g, enc(site.repo)).replace(/\{path\}/g, encPath(site.path))
      .replace(/\{line\}/g, String(line || 1));
  }
  const protocolColor = (p) => data.style.protocols[p] || data.style.other;

  // -- DOM helpers: text only ---------------------------------------------------------------------
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = v;
      else if (k === 'style') for (const [sk, sv] of Object.entries(v)) node.style.setProperty(sk, sv);
      else if (k.startsWith('data-')) node.setAttribute(k, v);
      else node[k] = v;
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }
  const where = (s) => `${s.repo}/${s.path}${s.line !== null && s.line !== undefined ? `:${s.line + 1}` : ''}`;
  function siteLink(site, text) {
    if (!site) return el('span', { text: text || '' });
    const label = text || where(site);
    const a = el('a', { text: label, title: where(site) });
    const target = href(site);
    if (target) a.href = target;
    a.dataset.repo = site.repo;
    a.dataset.path = site.path;
    a.dataset.line = site.line === null || site.line === undefined ? '' : String(site.line);
    a.addEventListener('click', (ev) => {
      if (!vscode) return;
      ev.preventDefault();
      openSite(site);
    });
    return a;
  }
  function openSite(site) {
    if (!site) return;
    const root = data.repos[site.repo];
    if (vscode && root) vscode.postMessage({ type: 'open', root, path: site.path, line: site.line });
  }
  const NODE_FLAGS = { deprecated: 'uses deprecated', drift: 'contract drift', breaking: 'breaking change' };
  const flags = (fs) => (fs || []).map((f) => el('span', { class: `flag ${f}`, text: f }));
  const proto = (p) => el('span', { class: 'proto', text: p, style: { '--c': protocolColor(p) } });

  // -- the graph ----------------------------------------------------------------------------------
  const elements = [];
  for (const g of data.groups) {
    elements.push({ group: 'nodes', data: { id: g.id, label: `${g.kind}: ${g.name}` }, classes: 'group' });
  }
  for (const n of data.nodes) {
    const lines = n.label;  // name, owner, SLOs and alerts (lore/map/style.py node_lines)
    const label = lines.join('\n');
    const w = 16 + 6.6 * Math.max(...lines.map((l) => l.length));
    elements.push({ group: 'nodes', data: { id: n.id, parent: n.group, label, w, h: 12 + 14 * lines.length },
      classes: [n.kind, ...n.flags].join(' ') });
  }
  for (const e of data.edges) {
    elements.push({ group: 'edges', data: { id: e.id, source: e.source, target: e.target, label: e.caption },
      classes: [`p-${e.protocol.replace(/[^\w-]/g, '_')}`, ...e.flags].join(' ') });
  }
  const style = [
    { selector: 'node[w]', style: { 'label': 'data(label)', 'text-wrap': 'wrap', 'text-valign': 'center', 'font-size': 11,
      'font-family': 'Helvetica, Arial, sans-serif', 'shape': 'round-rectangle', 'width': 'data(w)', 'height': 'data(h)', 'background-color': '#edf2f7', 'border-width': 1, 'border-color': '#4a5568', 'color': '#1a202c',
      'min-zoomed-font-size': LARGE ? 7 : 0 } },
    { selector: 'node.repo', style: { 'border-style': 'dashed', 'background-color': '#ffffff', 'color': '#4a5568' } },
    { selector: 'node.group', style: { 'label': 'data(label)', 'text-valign': 'top', 'text-halign': 'center',
      'font-size': 12, 'color': '#4a5568', 'background-color': '#f7fafc', 'background-opacity': 0.6,
      'border-color': '#cbd5e0', 'border-width': 1, 'padding': '14px', 'shape': 'round-rectangle' } },
    // Edges: few properties, colours by class rather than data mappers, labels only where they help
    // (every edge of a small map, the focused edges of a large one): styling thousands of edges costs.
    { selector: 'edge', style: { 'width': 1.6, 'line-color': data.style.other, 'target-arrow-color': data.style.other,
      'target-arrow-shape': 'triangle', 'arrow-scale': 0.9, 'curve-style': LARGE ? 'straight' : 'bezier',
      'opacity': LARGE ? 0.3 : 1 } },
    ...Object.entries(data.style.protocols).map(([p, c]) => ({ selector: `edge.p-${p}`,
      style: { 'line-color': c, 'target-arrow-color': c, 'color': c } })),
    { selector: 'edge.deprecated', style: { 'line-style': 'dashed' } },
    ...['drift', 'breaking'].map((f) => ({ selector: `edge.${f}`, style: { 'width': 3, 'line-color': data.style.flags[f],
      'target-arrow-color': data.style.flags[f], 'color': data.style.flags[f] } })),
    { selector: LARGE ? 'edge.labelled' : 'edge', style: { 'label': 'data(label)', 'font-size': 9, 'text-rotation': 'autorotate',
      'text-background-color': '#ffffff', 'text-background-opacity': 0.85, 'text-background-padding': '2px',
      'min-zoomed-font-size': 6 } },
    { selector: '.faded', style: { 'opacity': 0.12 } },
    { selector: 'node.group.faded', style: { 'opacity': 0.35 } },
    { selector: 'node.near', style: { 'border-width': 2, 'border-color': '#3182ce' } },
    { selector: 'node.match', style: { 'border-width': 3, 'border-color': '#d69e2e' } },
    { selector: 'node.focused', style: { 'border-width': 3, 'border-color': '#3182ce', 'background-color': '#ebf8ff' } },
    { selector: 'node.group[gw]', style: { 'width': 'data(gw)', 'height': 'data(gh)', 'padding': 0, 'events': 'no',
      'z-index-compare': 'manual', 'z-index': 0 } },
    ...(LARGE ? [{ selector: 'node[w], edge', style: { 'z-index-compare': 'manual', 'z-index': 2 } },
      { selector: 'edge', style: { 'z-index': 1 } }] : []),
    { selector: 'edge.labelled', style: { 'opacity': 1 } },
    { selector: 'edge.focused', style: { 'width': 4, 'opacity': 1 } },
  ];
  function packGroups(items) {
    const members = new Map();
    for (const item of items) {
      if (item.group !== 'nodes' || !item.data.w) continue;
      if (!members.has(item.data.parent)) members.set(item.data.parent, []);
      members.get(item.data.parent).push(item);
    }
    const gap = 24;
    const boxes = [...members.entries()].map(([group, list]) => {
      const cw = Math.max(...list.map((i) => i.data.w)) + gap;
      const ch = Math.max(...list.map((i) => i.data.h)) + gap;
      const cols = Math.ceil(Math.sqrt(list.length * ch / cw));
      return { group, list, cw, ch, cols, w: cols * cw, h: Math.ceil(list.length / cols) * ch };
    });
    const groups = new Map(items.filter((i) => i.classes === 'group').map((i) => [i.data.id, i]));
    const area = boxes.reduce((a, b) => a + (b.w + 3 * gap) * (b.h + 4 * gap), 0);
    const aspect = Math.max(1, ($('cy').clientWidth || 1200) / Math.max(1, $('cy').clientHeight || 700));
    const rowWidth = Math.max(...boxes.map((b) => b.w), Math.sqrt(area * aspect));
    let x = 0; let y = 0; let rowH = 0;
    for (const b of boxes) {
      if (x > 0 && x + b.w > rowWidth) { x = 0; y += rowH + 4 * gap; rowH = 0; }
      b.list.forEach((item, i) => {
        item.position = { x: x + (i % b.cols) * b.cw + b.cw / 2, y: y + Math.floor(i / b.cols) * b.ch + b.ch / 2 };
        delete item.data.parent;
      });
      // Compound parents cost a third of the first draw of a large map: the group becomes a plain box
      // drawn under everything, placed and sized here, which ignores clicks.
      const g = groups.get(b.group);
      if (g) {
        g.position = { x: x + b.w / 2, y: y + b.h / 2 };
        g.data.gw = b.w + 8;
        g.data.gh = b.h + 8;
      }
      x += b.w + 3 * gap;
      rowH = Math.max(rowH, b.h);
    }
  }
  const layout = {
    name: 'fcose', quality: 'default', randomize: true, animate: false, fit: false, nodeDimensionsIncludeLabels: false,
    packComponents: true, nodeRepulsion: 6000, idealEdgeLength: 110, nestingFactor: 0.6, gravityRangeCompound: 1.8,
    numIter: 2500, tile: true,
  };
  state.timings.parsed = performance.now() - t0;
  // Small maps: fCoSE (force-directed, groups as compound nodes) in a headless instance, so no renderer
  // keeps up with every move; then one draw in place. Large maps: force layouts of thousands of edges
  // take seconds and still give a hairball, so groups are packed on shelves, their services in a grid
  // inside (linear time, no overlaps); search and focus do the rest.
  if (LARGE || typeof cytoscapeFcose !== 'function') {
    packGroups(elements);
  } else {
    cytoscape.use(cytoscapeFcose);
    const sizes = [{ selector: 'node[w]', style: { 'width': 'data(w)', 'height': 'data(h)', 'shape': 'round-rectangle' } },
      { selector: 'node.group', style: { 'padding': '14px' } }];
    const headless = cytoscape({ headless: true, styleEnabled: true, elements, style: sizes });
    headless.layout(layout).run();
    for (const item of elements) {
      if (item.group === 'nodes' && item.data.w) item.position = { ...headless.getElementById(item.data.id).position() };
    }
    headless.destroy();
  }
  state.timings.layout = performance.now() - t0;
  const cy = cytoscape({
    container: $('cy'), elements, style, layout: { name: 'preset', fit: true, padding: 30 }, minZoom: 0.05, maxZoom: 4,
    textureOnViewport: LARGE, hideEdgesOnViewport: LARGE, pixelRatio: LARGE ? 1 : 'auto',
    boxSelectionEnabled: false, autoungrabify: false,
  });
  state.timings.drawn = performance.now() - t0;
  const calm = () => { if (cy.zoom() > 1.3) { cy.zoom(1.3); cy.center(); } };
  calm();

  // -- focus, panel, search -------------------------------------------------------------------------
  function clearFocus() {
    cy.batch(() => cy.$('.faded, .focused, .labelled, .near').removeClass('faded focused labelled near'));
    state.focused = null;
    showOverview();
  }
  function focus(id, opts) {
    const target = cy.getElementById(id);
    if (!target || target.empty()) return false;
    const keep = target.isNode() ? target.closedNeighborhood().union(target.closedNeighborhood().parents())
      : target.union(target.connectedNodes()).union(target.connectedNodes().parents());
    cy.batch(() => {
      // Touch as few elements as possible: restyling thousands of them is what makes a click slow.
      // A small map fades everything else; a large one (edges already faint) lifts the neighbourhood.
      cy.$('.faded, .focused, .labelled, .near').removeClass('faded focused labelled near');
      if (!LARGE) cy.elements().not(keep).addClass('faded');
      keep.nodes('.service, .repo').addClass('near');
      target.addClass('focused');
      keep.edges().addClass('labelled');
    });
    state.focused = id;
    if (!opts || opts.fit !== false) { cy.fit(keep.filter((x) => !x.hasClass('group')), 60); calm(); }
    if (target.isNode()) showNode(byId.get(id)); else showEdge(edgeById.get(id));
    if (opts && opts.open && vscode) {
      const item = target.isNode() ? byId.get(id) : edgeById.get(id);
      openSite(target.isNode() ? asSite(item.declared) : firstSite(item));
    }
    return true;
  }
  function firstSite(edge) {
    for (const [, , uses] of edge.contracts) for (const u of uses) if (u[2] && u[2].length) return asSite(u[2][0]);
    return null;
  }
  const nameOf = (id) => { const n = byId.get(id); return n ? (n.kind === 'repo' ? `${n.repo} (no service)` : n.name) : id; };

  function contractList(compact, empty, withSites) {
    const contracts = expand(compact);
    if (!contracts.length) return el('p', { class: 'empty', text: empty });
    const ul = el('ul');
    for (const c of contracts) {
      const entities = el('ul');
      for (const u of c.uses) {
        entities.append(el('li', {}, u.declared ? siteLink(u.declared, u.name) : el('span', { text: u.name }),
          el('span', { class: 'meta', text: ` ${u.kind.split('.').pop()} · ${u.count} site${u.count === 1 ? '' : 's'} ` }),
          ...flags(u.flags),
          ...(u.notes || []).map((n) => el('div', { class: 'meta', text: n })),
          withSites ? el('div', {}, ...u.sites.flatMap((s, i) => [i ? ', ' : '', siteLink(s)])) : null));
      }
      ul.append(el('li', {}, el('details', {},
        el('summary', {}, c.declared ? siteLink(c.declared, c.name) : el('span', { text: c.name }), proto(c.protocol),
          el('span', { class: 'meta', text: ` ${c.uses.length} entit${c.uses.length === 1 ? 'y' : 'ies'}, ${c.count} site${c.count === 1 ? '' : 's'}` }),
          ...flags(c.flags)),
        entities)));
    }
    return ul;
  }
  function edgeList(edges, other) {
    if (!edges.length) return el('p', { class: 'empty', text: 'none' });
    const ul = el('ul');
    for (const e of edges) {
      const a = el('a', { href: '#', text: other ? nameOf(e[other]) : `${nameOf(e.source)} → ${nameOf(e.target)}` });
      a.addEventListener('click', (ev) => { ev.preventDefault(); focus(e.id); });
      ul.append(el('li', {}, a, proto(e.protocol), el('span', { class: 'meta', text: ` ${e.label} · ${e.count} site${e.count === 1 ? '' : 's'}` }), ...flags(e.flags)));
    }
    return ul;
  }
  // Alerts, SLOs and pipelines (lore/query/map_ops.py): a section per kind the workspace has at all, so
  // "none" means none over this service, never that Lore read no rules.
  const SIGNAL_WORDS = { metric: 'metric', span: 'span', route: 'route', service: 'names the service' };
  const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
  function ruleList(rules, count, empty) {
    if (!count) return el('p', { class: 'empty', text: empty });
    const ul = el('ul', { class: 'ops' });
    for (const r of rules) {
      const reads = r.reads.map(([kind, name, s]) => (kind === 'service'
        ? el('span', { class: 'meta', text: SIGNAL_WORDS.service })
        : siteLink(asSite(s), `${SIGNAL_WORDS[kind] || kind} ${name}`)));
      ul.append(el('li', {}, siteLink(asSite(r.site), r.name),
        r.details.length ? el('span', { class: 'meta', text: ` ${r.details.join(', ')}` }) : null,
        el('div', {}, el('span', { class: 'meta', text: 'reads ' }), ...reads.flatMap((x, i) => [i ? ', ' : '', x]),
          r.via.length ? el('span', { class: 'meta', text: ` through recording rule ${r.via.join(', ')}` }) : null)));
    }
    if (count > rules.length) ul.append(el('li', { class: 'meta', text: `… ${count - rules.length} more` }));
    return ul;
  }
  function opsSections(n) {
    const kinds = data.ops_kinds || [];
    const o = n.ops || { alerts: [], slos: [], pipelines: [], counts: { alert: 0, slo: 0, pipeline: 0 } };
    const out = [];
    if (kinds.includes('alert')) {
      out.push(el('h3', { id: 'panel-alerts', text: `Alerts (${o.counts.alert})` }),
        ruleList(o.alerts, o.counts.alert, 'none reads its metrics, spans or routes'));
    }
    if (kinds.includes('slo')) {
      out.push(el('h3', { id: 'panel-slos', text: `SLOs (${o.counts.slo})` }),
        ruleList(o.slos, o.counts.slo, 'none reads its metrics, spans or routes, or names it'));
    }
    if (kinds.includes('pipeline')) {
      const ul = o.counts.pipeline ? el('ul', { class: 'ops' }, ...o.pipelines.map((p) => el('li', {},
        siteLink(asSite(p.site), p.text), el('span', { class: 'meta', text: ` (${p.why})` }))),
      ...(o.counts.pipeline > o.pipelines.length ? [el('li', { class: 'meta', text: `… ${o.counts.pipeline - o.pipelines.length} more` })] : []))
        : el('p', { class: 'empty', text: n.kind === 'service' ? 'no CI job or GitOps object found for it' : 'not a service' });
      out.push(el('h3', { id: 'panel-pipelines', text: `Built and deployed by (${o.counts.pipeline})` }), ul);
    }
    return out;
  }
  function panel(...children) {
    const p = $('panel');
    p.replaceChildren(...children.filter((c) => c !== null && c !== undefined));  // not the text "null"
    p.scrollTop = 0;
  }
  function showNode(n) {
    const out = data.edges.filter((e) => e.source === n.id);
    const inc = data.edges.filter((e) => e.target === n.id);
    const history = n.history.length ? el('ul', {}, ...n.history.map((h) => el('li', {},
      el('span', { class: 'meta', text: `${h.date.slice(0, 10)} ${h.sha.slice(0, 10)} ` }), ...flags(h.kinds),
      el('div', { text: h.subject }), h.site ? siteLink(asSite(h.site)) : null)))
      : el('p', { class: 'empty', text: n.history_notes.length ? 'none in the history Lore could read' : 'none in its history' });
    const gaps = n.history_notes.length ? el('ul', {}, ...n.history_notes.map((t) => el('li', { class: 'meta', text: t }))) : null;
    panel(
      el('h2', { id: 'panel-title', text: n.kind === 'repo' ? `${n.repo} (files in no service)` : n.name }),
      ...n.flags.map((f) => el('span', { class: `flag ${f}`, text: NODE_FLAGS[f] || f })),
      el('div', { class: 'meta', text: n.owner ? `owner ${n.owner}` : 'no owner known' }),
      el('div', {}, el('span', { class: 'meta', text: 'repo ' }), n.declared ? siteLink(asSite(n.declared), `${n.repo}/${n.root || '.'}`) : el('span', { text: `${n.repo}/${n.root || '.'}` })),
      n.languages.length ? el('div', { class: 'meta', text: n.languages.join(', ') }) : null,
      el('h3', { text: `Provides (${n.provides.length})` }), contractList(n.provides, 'nothing known', false),
      el('h3', { text: `Consumed by (${out.length})` }), edgeList(out, 'target'),
      el('h3', { text: `Consumes (${n.consumes.length})` }), contractList(n.consumes, 'nothing known', false),
      el('h3', { text: `Depends on (${inc.length})` }), edgeList(inc, 'source'),
      n.unprovided.length ? el('h3', { text: `Consumed, provider unknown (${n.unprovided.length})` }) : null,
      n.unprovided.length ? contractList(n.unprovided, '', true) : null,
      ...opsSections(n),
      el('h3', { text: 'Workarounds, hotfixes, reverts' }), history, gaps);
  }
  function showEdge(e) {
    panel(
      el('h2', { id: 'panel-title', text: `${nameOf(e.source)} → ${nameOf(e.target)}` }), proto(e.protocol), ...flags(e.flags),
      el('div', { class: 'meta', text: `${e.count} call site${e.count === 1 ? '' : 's'} in ${nameOf(e.target)} use contracts ${nameOf(e.source)} provides` }),
      el('h3', { text: `Contracts (${e.contracts.length})` }), contractList(e.contracts, 'none', true));
    for (const d of $('panel').querySelectorAll('details')) d.open = true;
  }
  function showOverview() {
    const services = data.nodes.filter((n) => n.kind === 'service').length;
    const flagged = data.edges.filter((e) => e.flags.length);
    panel(
      el('h2', { id: 'panel-title', text: 'System map' }),
      el('div', { class: 'meta', text: `${services} services, ${data.nodes.length - services} repos with files in no service, ${data.edges.length} links, grouped by ${data.group_by}` }),
      el('p', { text: 'Click a service or a link for details; search by service, owner, repo, contract, alert or SLO.' }),
      (data.ops_kinds || []).includes('slo') ? el('div', { class: 'meta',
        text: `${data.nodes.filter((n) => n.ops && n.ops.counts.slo).length} of ${services} services have an SLO` }) : null,
      el('h3', { text: `Links with deprecated, drifted or breaking contracts (${flagged.length})` }),
      edgeList(flagged.slice(0, 200), null),
      el('div', { id: 'notes' }, ...data.notes.map((n) => el('div', { text: n }))));
  }

  const haystack = new Map(data.nodes.map((n) => [n.id, [n.name, n.owner, n.repo, n.root,
    ...n.provides.map((c) => data.contracts[c[0]].name), ...n.consumes.map((c) => data.contracts[c[0]].name),
    ...(n.ops ? [...n.ops.alerts, ...n.ops.slos].map((r) => r.name) : [])].join('\n').toLowerCase()]));
  function search(q) {
    q = q.trim().toLowerCase();
    const results = $('results');
    cy.batch(() => cy.nodes('.match').removeClass('match'));
    state.matches = [];
    if (!q) { results.replaceChildren(); return []; }
    const hits = data.nodes.filter((n) => haystack.get(n.id).includes(q));
    hits.sort((a, b) => (b.name.toLowerCase().startsWith(q) - a.name.toLowerCase().startsWith(q)) || a.name.localeCompare(b.name));
    state.matches = hits.map((n) => n.id);
    cy.batch(() => { for (const n of hits) cy.getElementById(n.id).addClass('match'); });
    results.replaceChildren(...hits.slice(0, 30).map((n, i) => {
      const li = el('li', { class: i === 0 ? 'active' : '' }, el('span', { text: nameOf(n.id) }),
        el('span', { class: 'hint', text: [n.owner, n.repo].filter(Boolean).join(' · ') }));
      li.dataset.id = n.id;
      li.addEventListener('click', () => { focus(n.id, { open: true }); results.replaceChildren(); });
      return li;
    }), ...(hits.length > 30 ? [el('li', { class: 'hint', text: `… ${hits.length - 30} more` })] : []),
    ...(hits.length ? [] : [el('li', { class: 'hint', text: 'no service matches' })]));
    return state.matches;
  }

  // -- wiring -----------------------------------------------------------------------------------------
  cy.on('tap', 'node.service, node.repo', (ev) => focus(ev.target.id(), { fit: false, open: true }));
  cy.on('tap', 'edge', (ev) => focus(ev.target.id(), { fit: false, open: true }));
  cy.on('tap', (ev) => { if (ev.target === cy) clearFocus(); });
  $('search').addEventListener('input', (ev) => search(ev.target.value));
  $('search').addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && state.matches.length) { focus(state.matches[0], { open: true }); $('results').replaceChildren(); }
    if (ev.key === 'Escape') { ev.target.value = ''; search(''); clearFocus(); }
  });
  $('fit').addEventListener('click', () => { clearFocus(); cy.fit(undefined, 30); calm(); });
  let resizing = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => {
      cy.resize();
      const target = state.focused ? cy.getElementById(state.focused) : null;
      if (target && target.nonempty()) {
        const keep = target.isNode() ? target.closedNeighborhood() : target.union(target.connectedNodes());
        cy.fit(keep.filter((x) => !x.hasClass('group')), 60);
      } else cy.fit(undefined, 30);
      calm();
    }, 150);
  });
  document.addEventListener('keydown', (ev) => {
    if (ev.key === '/' && document.activeElement !== $('search')) { ev.preventDefault(); $('search').focus(); }
  });
  const legend = $('legend');
  for (const [p, c] of Object.entries(data.style.protocols)) {
    if (data.edges.some((e) => e.protocol === p)) legend.append(el('span', { text: p, style: { '--c': c } }));
  }
  legend.append(el('span', { class: 'dashed', text: 'deprecated', style: { '--c': '#718096' } }),
    el('span', { text: 'drift', style: { '--c': data.style.flags.drift } }),
    el('span', { text: 'breaking', style: { '--c': data.style.flags.breaking } }));
  $('stats').textContent = `${data.nodes.length} nodes · ${data.edges.length} links`;

  if (data.center && byId.has(data.center)) focus(data.center);
  else if (data.focus && byId.has(data.focus)) focus(data.focus, { fit: false });
  else showOverview();
  state.timings.ready = performance.now() - t0;
  window.loreMap = { cy, data, focus, search, clearFocus, state, href, ready: true };
  document.body.dataset.ready = '1';
  if (vscode) vscode.postMessage({ type: 'ready', nodes: data.nodes.length, edges: data.edges.length, timings: state.timings });
})();
