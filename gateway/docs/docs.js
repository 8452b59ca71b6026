/* lienthong API reference: renders /openapi.json (Swagger 2.0, merged by protoc-gen-openapiv2).
   No dependencies. Every string from the document goes into the page as a text node, never parsed as markup. */
(() => {
  'use strict';
  const SPEC = '/openapi.json', TOKEN_KEY = 'lienthong.docs.token', DAY = '2025-07-01';
  const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'];
  const INT64 = /^(u?int64|s?fixed64|sint64)$/;
  let spec = {}, defs = {}, n = 0;
  const ops = [], groups = [], byId = {};
  const $ = id => document.getElementById(id);
  const uid = p => p + (++n);

  // ---- DOM helpers: text nodes and attributes only ----
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const k in attrs || {}) {
      const v = attrs[k];
      if (v == null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    return add(el, kids);
  }
  function add(el, kids) {
    for (const k of kids) {
      if (k == null || k === false || k === '') continue;
      if (Array.isArray(k)) add(el, k);
      else el.appendChild(k instanceof Node ? k : document.createTextNode(String(k)));
    }
    return el;
  }
  const norm = s => String(s == null ? '' : s).normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '').replace(/[đĐ]/g, 'd').toLowerCase();
  const inline = t => String(t).split('`').map((p, i) => (i % 2 ? h('code', null, p) : p));
  const slug = s => String(s).replace(/[^A-Za-z0-9_-]+/g, '-');
  const reEsc = s => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const shq = s => "'" + String(s).replace(/'/g, "'\\''") + "'";

  // Proto comments: blank lines separate paragraphs, "- " starts a list item, `x` is code.
  function prose(text, cls) {
    text = String(text || '').replace(/\r/g, '').trim();
    if (!text) return null;
    const box = h('div', { class: 'prose' + (cls ? ' ' + cls : '') });
    for (const block of text.split(/\n\s*\n/)) {
      const items = [];
      let cur = null, ul = null;
      for (const line of block.split('\n')) {
        const m = /^\s*[-*•]\s+(.*)$/.exec(line);
        if (m) items.push(cur = { li: true, t: m[1] });
        else if (cur && (!cur.li || /^\s/.test(line))) cur.t += ' ' + line.trim();
        else items.push(cur = { li: false, t: line.trim() });
      }
      for (const it of items) {
        if (!it.li) { ul = null; box.appendChild(h('p', null, inline(it.t))); continue; }
        if (!ul) box.appendChild(ul = h('ul'));
        ul.appendChild(h('li', null, inline(it.t)));
      }
    }
    return box;
  }

  // ---- schemas ----
  function refName(ref) {
    const m = /^#\/definitions\/(.+)$/.exec(ref || '');
    return m ? decodeURIComponent(m[1]).replace(/~1/g, '/').replace(/~0/g, '~') : String(ref);
  }
  function deref(s) {
    let name = null, i = 0;
    s = s || {};
    while (s.$ref && i++ < 32) { name = refName(s.$ref); s = defs[name] || {}; }
    return { s, name };
  }
  const joinDesc = s => [s.title, s.description].filter(Boolean).join('\n\n');
  const hasProps = s => !!s.properties && Object.keys(s.properties).length > 0;
  const isMap = s => !!s.additionalProperties && typeof s.additionalProperties === 'object' && !hasProps(s);
  const kindOf = s => s.enum ? 'enum' : (s.type === 'array' || s.items) ? 'array'
    : (s.type === 'object' || s.properties || s.additionalProperties) ? 'object' : (s.type || 'any');
  const pickEnum = vals => { const v = vals.find(x => !/(^|_)UNSPECIFIED$/.test(x)); return v === undefined ? vals[0] : v; };

  function typeLabel(ps) {
    const { s, name } = deref(ps), k = kindOf(s), f = s.format || '';
    if (k === 'enum') return (name || s.type || 'string') + ' (enum)';
    if (k === 'array') return 'array of ' + typeLabel(s.items || {});
    if (k === 'object') {
      if (isMap(s)) return 'map<string, ' + typeLabel(s.additionalProperties) + '>';
      return name || (!hasProps(s) && s.additionalProperties ? 'object (any JSON)' : 'object');
    }
    if (INT64.test(f)) return 'string (' + f + ')';
    if (f === 'byte') return 'string (base64 bytes)';
    return k + (f ? ' (' + f + ')' : '');
  }
  function typeChip(ps) {
    const t = typeLabel(ps);
    return h('span', { class: 'type', title: /\((u?int64|s?fixed64|sint64)\)/.test(t)
      ? '64-bit integer: a JSON string in proto3 JSON, e.g. "42"' : null }, t);
  }

  // Splits " - NAME: doc" lines (how openapiv2 documents enum values) from the rest.
  function splitEnum(text, values) {
    const docs = {}, rest = [];
    let last = null;
    for (const line of String(text || '').split('\n')) {
      const m = /^\s*-\s+([A-Za-z0-9_]+):\s?(.*)$/.exec(line);
      if (m && values.includes(m[1])) docs[last = m[1]] = m[2];
      else if (last && /^\s{2,}\S/.test(line)) docs[last] += ' ' + line.trim();
      else { last = null; rest.push(line); }
    }
    return { docs, rest: rest.join('\n').trim() };
  }
  function describe(ps) {
    const r = deref(ps);
    let s = r.s;
    if (kindOf(s) === 'array') s = deref(s.items || {}).s;
    const own = joinDesc(ps);
    if (!s.enum) return { text: own || joinDesc(r.s) };
    const a = splitEnum(own, s.enum), b = splitEnum(joinDesc(s), s.enum);
    return { text: own ? a.rest : b.rest,
      en: { values: s.enum, dflt: s.default, docs: Object.assign({}, b.docs, a.docs) } };
  }
  function enumBlock(en) {
    return h('div', { class: 'enum' }, h('span', { class: 'lbl' }, 'Values'),
      h('ul', null, en.values.map(v => h('li', null, h('code', null, String(v)),
        v === en.dflt ? h('span', { class: 'dflt' }, ' (default)') : null,
        en.docs[v] ? [' — ', inline(en.docs[v])] : null))));
  }

  function fieldRow(name, ps, req, stack, depth) {
    const s = deref(ps).s, d = describe(ps);
    return h('li', { class: 'field' },
      h('div', { class: 'fhead' }, h('code', { class: 'fname' }, name), ' ', typeChip(ps),
        req ? h('span', { class: 'flag req' }, 'required') : null,
        ps.readOnly || s.readOnly ? h('span', { class: 'flag ro' }, 'output only') : null),
      prose(d.text), d.en ? enumBlock(d.en) : null, children(ps, stack, depth));
  }
  function children(ps, stack, depth) {
    let r = deref(ps), s = r.s;
    for (let i = 0; i < 8; i++) {
      if (kindOf(s) === 'array') r = deref(s.items || {});
      else if (isMap(s)) r = deref(s.additionalProperties);
      else break;
      s = r.s;
    }
    if (!hasProps(s)) return null;
    if (r.name && stack.includes(r.name)) {
      return h('p', { class: 'note' }, '↻ ', h('code', null, r.name), ' is recursive: its fields are listed above.');
    }
    if (depth > 12) return h('p', { class: 'note' }, '… nested too deep to show.');
    const cnt = Object.keys(s.properties).length;
    return h('details', { class: 'nest', open: depth < 1 },
      h('summary', null, cnt + (cnt === 1 ? ' field' : ' fields') + (r.name ? ' of ' + r.name : '')),
      fieldList(s, r.name ? stack.concat(r.name) : stack, depth + 1));
  }
  function fieldList(s, stack, depth) {
    const req = s.required || [];
    return h('ul', { class: 'fields' },
      Object.keys(s.properties).map(k => fieldRow(k, s.properties[k], req.includes(k), stack, depth)));
  }
  function schemaBlock(ps) {
    const r = deref(ps), s = r.s, stack = r.name ? [r.name] : [];
    if (hasProps(s)) return fieldList(s, stack, 0);
    if (kindOf(s) === 'object' && !s.additionalProperties) {
      return h('p', { class: 'note' }, 'An empty JSON object: ', h('code', null, '{}'));
    }
    const d = describe(ps);
    return h('div', null, h('p', { class: 'note' }, 'Type: ', typeChip(ps)),
      d.en ? enumBlock(d.en) : null, children(ps, stack, 0));
  }

  // ---- samples (curl, body skeletons, placeholders) ----
  // A value only when the document makes it plain: example, enum, a date, "e.g. `x`".
  function guess(p) {
    const s = deref(p).s;
    for (const o of [p, s]) {
      for (const k of ['example', 'x-example']) if (o[k] != null && typeof o[k] !== 'object') return o[k];
    }
    if (s.enum) return pickEnum(s.enum);
    if (s.type && s.type !== 'string') return undefined;
    const d = joinDesc(p) + '\n' + joinDesc(s), f = s.format || '';
    if (f === 'date-time' || /RFC ?3339/i.test(d)) return DAY + 'T00:00:00Z';
    if (f === 'date' || /YYYY-MM-DD/.test(d)) return DAY;
    const m = /e\.g\.,?\s*`([^`\n]{1,40})`/.exec(d) || /e\.g\.,?\s*"([^"\n]{1,40})"/.exec(d) ||
      /^`([^`\s]{1,30})`/.exec(d.trim());
    return m ? m[1] : undefined;
  }
  function skeleton(ps, stack, depth, withOutput) {
    const r = deref(ps), s = r.s, k = kindOf(s);
    if (k === 'enum') return pickEnum(s.enum);
    const rec = (r.name && stack.includes(r.name)) || depth > 8;
    const st = r.name ? stack.concat(r.name) : stack;
    if (k === 'array') return rec ? [] : [skeleton(s.items || {}, st, depth + 1, withOutput)];
    if (k === 'object') {
      const o = {};
      if (rec) return o;
      if (isMap(s)) { o.key = skeleton(s.additionalProperties, st, depth + 1, withOutput); return o; }
      for (const [name, p] of Object.entries(s.properties || {})) {
        if (withOutput || !(p.readOnly || deref(p).s.readOnly)) o[name] = skeleton(p, st, depth + 1, withOutput);
      }
      return o;
    }
    const g = /\bempty\b/i.test(joinDesc(ps)) ? undefined : guess(ps);
    if (g !== undefined) return g;
    if (INT64.test(s.format || '')) return '0';
    if (k === 'integer' || k === 'number') return 0;
    if (k === 'boolean') return false;
    return '';
  }
  const placeholder = name => name.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
  const encPath = v => String(v).split('/').map(encodeURIComponent).join('/');
  // {name} or {name=dossiers/*}; a placeholder keeps the template's fixed segments.
  const tmplRe = name => new RegExp('\\{' + reEsc(name) + '(?:=([^}]*))?\\}');
  function fillPath(path, name, value, ph) {
    return path.replace(tmplRe(name), (m, pat) => (ph && pat ? pat.replace(/\*\*?/g, value) : encPath(value)));
  }

  function curlFor(op) {
    let path = op.path;
    const qs = [], M = op.m.toUpperCase();
    for (const p of op.params) {
      const g = guess(p);
      if (p.in === 'path') path = g !== undefined ? fillPath(path, p.name, g) : fillPath(path, p.name, placeholder(p.name), true);
      else if (p.in === 'query' && (p.required || (g !== undefined && qs.length < 2))) {
        qs.push(encodeURIComponent(p.name) + '=' + encodeURIComponent(g !== undefined ? g : placeholder(p.name)));
      }
    }
    const body = op.params.find(p => p.in === 'body');
    const parts = ['curl -s' + (M !== 'GET' && !(M === 'POST' && body) ? ' -X ' + M : '') + ' ' +
      shq(location.origin + path + (qs.length ? '?' + qs.join('&') : ''))];
    if (M !== 'GET') parts.push('-H "Authorization: Bearer $TOKEN"');
    if (body) {
      parts.push("-H 'Content-Type: application/json'");
      parts.push('-d ' + shq(JSON.stringify(skeleton(body.schema || {}, [], 0, false), null, 2)));
    }
    return parts.join(' \\\n  ');
  }

  function copyText(t) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(t);
    const ta = h('textarea', { class: 'vh', readonly: true });
    ta.value = t;
    document.body.appendChild(ta);
    ta.select();
    const ok = document.execCommand('copy');
    ta.remove();
    return ok ? Promise.resolve() : Promise.reject(new Error('copy failed'));
  }
  function codeBlock(text, label) {
    const btn = h('button', { type: 'button', class: 'copy', 'aria-label': 'Copy ' + label }, 'Copy');
    btn.addEventListener('click', () => copyText(text).then(() => 'Copied', () => 'Select and copy')
      .then(msg => { btn.textContent = msg; setTimeout(() => { btn.textContent = 'Copy'; }, 1500); }));
    return h('div', { class: 'code' }, btn, h('pre', { tabindex: '0', 'aria-label': label }, h('code', null, text)));
  }

  // ---- token (shared by every Try-it form, this tab only) ----
  const store = {
    get() { try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; } },
    set(v) { try { if (v) sessionStorage.setItem(TOKEN_KEY, v); else sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* storage off */ } },
  };

  function tryPanel(op) {
    const det = h('details', { class: 'try' }, h('summary', null, 'Try it'));
    det.addEventListener('toggle', () => {
      if (det.open && !det.dataset.built) { det.dataset.built = '1'; det.appendChild(tryForm(op)); }
    });
    return det;
  }
  function tryForm(op) {
    const fields = [], grid = h('div', { class: 'tgrid' });
    for (const p of op.params) {
      if (p.in !== 'path' && p.in !== 'query' && p.in !== 'header') continue;
      const id = uid('f'), s = deref(p).s, multi = kindOf(s) === 'array';
      const items = multi ? deref(s.items || {}).s : s;
      let input;
      if (!multi && (s.enum || s.type === 'boolean')) {
        input = h('select', { id }, h('option', { value: '' }, p.required ? '— choose —' : '— not set —'),
          (s.enum || ['true', 'false']).map(v => h('option', { value: v }, String(v))));
      } else {
        const g = guess(p), pat = p.in === 'path' && (tmplRe(p.name).exec(op.path) || [])[1];
        input = h('input', { id, type: 'text', autocomplete: 'off', spellcheck: 'false', required: !!p.required,
          placeholder: multi ? 'comma-separated' + (items.enum ? ': ' + items.enum.join(', ') : '')
            : g !== undefined ? 'e.g. ' + g : pat || typeLabel(p) });
      }
      fields.push({ p, input, multi });
      grid.append(h('label', { for: id }, h('code', null, p.name),
        h('span', { class: 'in' }, ' ' + p.in + (p.required ? ', required' : ''))), input);
    }
    const body = op.params.find(p => p.in === 'body');
    let ta = null;
    if (body) {
      const id = uid('b'), txt = JSON.stringify(skeleton(body.schema || {}, [], 0, false), null, 2);
      ta = h('textarea', { id, rows: Math.min(16, txt.split('\n').length + 1), spellcheck: 'false' });
      ta.value = txt;
      grid.append(h('label', { for: id }, 'Body ', h('span', { class: 'in' }, 'JSON')), ta);
    }
    const tid = uid('t');
    const tok = h('input', { id: tid, type: 'password', class: 'tok', autocomplete: 'off', spellcheck: 'false',
      'aria-describedby': tid + 'd', placeholder: 'optional for public reads' });
    tok.value = store.get();
    tok.addEventListener('input', () => {
      store.set(tok.value.trim());
      document.querySelectorAll('input.tok').forEach(x => { if (x !== tok) x.value = tok.value; });
    });
    grid.append(h('label', { for: tid }, 'Bearer token'), h('div', null, tok,
      h('p', { class: 'hint', id: tid + 'd' }, 'Sent as Authorization: Bearer …; kept in this tab’s sessionStorage only.')));
    const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
    const out = h('pre', { class: 'out', tabindex: '0', 'aria-label': 'Response body', hidden: true });
    const send = h('button', { type: 'submit', class: 'send' }, 'Send ' + op.m.toUpperCase());
    const form = h('form', { class: 'tryform', novalidate: true }, grid, h('div', { class: 'actions' }, send), status, out);
    form.addEventListener('submit', ev => { ev.preventDefault(); run(op, fields, ta, tok, status, out, send); });
    return form;
  }
  function say(status, cls, ...kids) {
    status.className = 'status ' + cls;
    status.textContent = '';
    add(status, kids);
  }
  async function run(op, fields, ta, tok, status, out, send) {
    const M = op.m.toUpperCase(), qs = new URLSearchParams(), headers = { Accept: 'application/json' }, missing = [];
    let path = op.path, body;
    for (const f of fields) {
      const v = f.input.value.trim();
      if (!v) { if (f.p.required) missing.push(f.p.name); continue; }
      if (f.p.in === 'path') path = fillPath(path, f.p.name, v);
      else if (f.p.in === 'header') headers[f.p.name] = v;
      else (f.multi ? v.split(',').map(x => x.trim()).filter(Boolean) : [v]).forEach(x => qs.append(f.p.name, x));
    }
    if (missing.length) return say(status, 'bad', 'Fill in: ' + missing.join(', '));
    if (ta && ta.value.trim()) {
      try { JSON.parse(ta.value); } catch (e) { return say(status, 'bad', 'The body is not valid JSON: ' + e.message); }
      body = ta.value;
      headers['Content-Type'] = 'application/json';
    }
    const token = tok.value.trim();
    if (token) headers.Authorization = 'Bearer ' + token;
    const url = path + (String(qs) ? '?' + qs : '');
    send.disabled = true;
    say(status, '', 'Sending ' + M + ' ' + url + ' …');
    const t0 = performance.now();
    try {
      const res = await fetch(url, { method: M, headers, body, credentials: 'same-origin' });
      const text = await res.text();
      let shown = text;
      try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { /* not JSON: show as is */ }
      say(status, res.ok ? 'ok' : 'bad', h('strong', null, res.status + ' ' + res.statusText),
        ' · ' + M + ' ' + url + ' · ' + Math.round(performance.now() - t0) + ' ms');
      out.textContent = shown || '(empty body)';
      out.hidden = false;
    } catch (e) {
      say(status, 'bad', 'Request failed: ' + e.message);
      out.hidden = true;
    } finally {
      send.disabled = false;
    }
  }

  // ---- operations ----
  const badge = m => h('span', { class: 'm m-' + m }, m.toUpperCase());
  const pathNode = p => h('span', { class: 'path' },
    p.split(/(\{[^}]*\})/).map((x, i) => (i % 2 ? h('span', { class: 'pp' }, x) : x)));

  function resolveP(p, section) {
    const m = /^#\/(parameters|responses)\/(.+)$/.exec((p && p.$ref) || '');
    return m && spec[section] ? spec[section][decodeURIComponent(m[2])] || {} : p || {};
  }
  function collect() {
    const base = (spec.basePath || '').replace(/\/+$/, '');
    for (const [path, item] of Object.entries(spec.paths || {})) {
      for (const m of METHODS) {
        const o = item[m];
        if (!o) continue;
        const params = [];
        for (const p of (item.parameters || []).concat(o.parameters || []).map(x => resolveP(x, 'parameters'))) {
          const i = params.findIndex(q => q.name === p.name && q.in === p.in);
          if (i >= 0) params[i] = p; else params.push(p);
        }
        let id = 'op-' + slug(o.operationId || m + path);
        while (byId[id]) id += '_';
        const tag = (o.tags && o.tags[0]) || 'Other';
        const op = { m, path: base + path, o, params, id, tag,
          hay: norm([m, path, o.summary, o.description, o.operationId, tag].join(' ')) };
        byId[id] = op;
        ops.push(op);
      }
    }
  }

  function opArticle(op) {
    const o = op.o, M = op.m.toUpperCase();
    const art = h('article', { class: 'op', id: op.id, 'aria-labelledby': op.id + '-h' },
      h('h3', { id: op.id + '-h' }, badge(op.m), ' ', pathNode(op.path),
        o.deprecated ? h('span', { class: 'flag dep' }, 'deprecated') : null),
      prose(o.summary, 'summary'), prose(o.description),
      o.operationId ? h('p', { class: 'opid' }, 'operationId ', h('code', null, o.operationId)) : null);

    const plain = op.params.filter(p => p.in !== 'body');
    if (plain.length) {
      const cols = ['Name', 'In', 'Type', 'Required', 'Description'];
      add(art, [h('h4', null, 'Parameters'), h('div', { class: 'tablewrap' }, h('table', { class: 'params' },
        h('thead', null, h('tr', null, cols.map(c => h('th', { scope: 'col' }, c)))),
        h('tbody', null, plain.map(p => {
          const d = describe(p);
          return h('tr', null,
            h('td', { 'data-label': cols[0] }, h('code', { class: 'fname' }, p.name)),
            h('td', { 'data-label': cols[1] }, p.in),
            h('td', { 'data-label': cols[2] }, typeChip(p)),
            h('td', { 'data-label': cols[3] }, p.required ? h('span', { class: 'flag req' }, 'required') : h('span', { class: 'muted' }, 'optional')),
            h('td', { 'data-label': cols[4] }, prose(d.text), d.en ? enumBlock(d.en) : null,
              kindOf(deref(p).s) === 'array' && p.in === 'query' ? h('p', { class: 'muted' }, 'Repeat the parameter for several values.') : null));
        }))))]);
    }

    const body = op.params.find(p => p.in === 'body');
    if (body) {
      const sc = body.schema || {};
      add(art, [h('h4', null, 'Request body ', typeChip(sc)), prose(joinDesc(body) || joinDesc(deref(sc).s)),
        schemaBlock(sc), shape('JSON skeleton', skeleton(sc, [], 0, false))]);
    }

    for (const [code, r0] of Object.entries(o.responses || {})) {
      const r = resolveP(r0, 'responses'), sc = r.schema, ok = /^2/.test(code);
      const title = ok ? 'Response ' + code : code === 'default' ? 'Error response (any status other than 2xx)' : 'Response ' + code;
      const name = sc ? deref(sc).name || '' : '';
      const note = /(^|\.|rpc)Status$/.test(name)
        ? 'A google.rpc.Status: code is the gRPC code (see Conventions above), message a text for developers, details typed error details, each with its @type.'
        : sc ? joinDesc(deref(sc).s) || r.description : r.description;
      const same = ok && name && body && deref(body.schema || {}).name === name;
      const tree = sc ? schemaBlock(sc) : null;
      const content = [prose(note), same ? h('details', { class: 'nest' },
        h('summary', null, 'Fields: the same ' + name + ' as the request body'), tree) : tree,
        sc ? shape('JSON shape', skeleton(sc, [], 0, true)) : null];
      if (ok) add(art, [h('h4', null, title, ' ', sc ? typeChip(sc) : null), content]);
      else add(art, [h('details', { class: 'err' }, h('summary', null, title, ' ', sc ? typeChip(sc) : null), content)]);
    }

    add(art, [h('h4', null, 'Example'), codeBlock(curlFor(op), 'curl example for ' + M + ' ' + op.path), tryPanel(op)]);
    return art;
  }
  const shape = (label, v) => h('details', { class: 'shape' }, h('summary', null, label),
    h('pre', { tabindex: '0' }, h('code', null, JSON.stringify(v, null, 2))));

  function render() {
    defs = spec.definitions || {};
    collect();
    const tags = new Map();
    for (const t of spec.tags || []) if (t && t.name) tags.set(t.name, { t, list: [] });
    for (const op of ops) {
      if (!tags.has(op.tag)) tags.set(op.tag, { t: { name: op.tag }, list: [] });
      tags.get(op.tag).list.push(op);
    }
    const toc = $('toc'), main = $('ops');
    main.textContent = '';
    for (const { t, list } of tags.values()) {
      const tid = 'tag-' + slug(t.name);
      const cnt = h('span', { class: 'cnt' }, String(list.length));
      const grp = h('div', { class: 'grp' }, h('h2', null, h('a', { href: '#' + tid }, t.name), cnt),
        list.length ? h('ul', null, list.map(op => {
          op.link = h('a', { href: '#' + op.id, title: op.o.summary || null }, badge(op.m),
            h('span', { class: 'p' }, op.path.split(/(?<=[/:])/).map((x, i) => (i ? [h('wbr'), x] : x))));
          return op.li = h('li', null, op.link);
        })) : h('p', { class: 'muted' }, 'gRPC only'));
      const sec = h('section', { class: 'tag', id: tid, 'aria-labelledby': tid + '-h' },
        h('h2', { id: tid + '-h' }, t.name), prose(t.description),
        list.length ? null : h('p', { class: 'note' }, 'No REST operations: this service answers over gRPC only.'),
        list.map(op => (op.art = opArticle(op))));
      toc.appendChild(grp);
      main.appendChild(sec);
      groups.push({ grp, sec, list, cnt });
    }
    filter();

    const q = $('q');
    q.addEventListener('input', filter);
    document.addEventListener('keydown', e => {
      if (e.key === '/' && !/^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName)) { e.preventDefault(); q.focus(); }
      else if (e.key === 'Escape' && document.activeElement === q) { q.value = ''; filter(); }
    });

    if ('IntersectionObserver' in window) {
      let active = null;
      const io = new IntersectionObserver(es => {
        for (const e of es) {
          const op = byId[e.target.id];
          if (!e.isIntersecting || !op) continue;
          if (active) { active.classList.remove('on'); active.removeAttribute('aria-current'); }
          (active = op.link).classList.add('on');
          active.setAttribute('aria-current', 'location');
        }
      }, { rootMargin: '0px 0px -70% 0px' });
      ops.forEach(op => io.observe(op.art));
    }
    if (location.hash.length > 1) {
      const el = document.getElementById(decodeURIComponent(location.hash.slice(1)));
      if (el) el.scrollIntoView();
    }
  }

  function filter() {
    const terms = norm($('q').value).split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const g of groups) {
      let k = 0;
      for (const op of g.list) {
        const hit = terms.every(t => op.hay.includes(t));
        op.li.hidden = op.art.hidden = !hit;
        if (hit) k++;
      }
      g.grp.hidden = g.sec.hidden = terms.length > 0 && k === 0;
      g.cnt.textContent = terms.length ? k + '/' + g.list.length : String(g.list.length);
      shown += k;
    }
    const svc = groups.length + (groups.length === 1 ? ' service' : ' services');
    $('count').textContent = terms.length
      ? shown + ' of ' + ops.length + ' operations match'
      : ops.length + ' operations in ' + svc;
  }

  function start() {
    $('origin').textContent = location.origin;
    fetch(SPEC, { headers: { Accept: 'application/json' } })
      .then(r => { if (!r.ok) throw new Error('HTTP ' + r.status + ' ' + r.statusText); return r.json(); })
      .then(doc => {
        spec = doc || {};
        const v = spec.info && spec.info.version;
        if (v && v !== 'version not set') $('conv-h').append(' ', h('span', { class: 'muted' }, '· version ' + v));
        const about = prose(spec.info && spec.info.description);
        if (about) $('about').appendChild(about);
        render();
      })
      .catch(e => {
        const box = $('ops');
        box.textContent = '';
        box.append(h('p', { class: 'note bad', role: 'alert' }, 'Could not load ', h('code', null, SPEC), ': ' + e.message));
      });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
