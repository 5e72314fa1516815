# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""drift.html: the drift report as one self-contained page for people (pure, no I/O).

``render_html(report)`` takes the drift.json document (module_utils/_reports/document.py). The page has no external
script, style, font or image. It leads with the posture (every vault counted by each rule's state, locked or not,
a chart of states per subscription), then headline figures, inline SVG charts (vaults per subscription, drifting
vs clean; findings per setting by who fixes them), and the findings table grouped by vault (one ``tbody`` per
vault: a head row with the vault's posture, then its open findings), which a small inline script filters, sorts
and shows a page of vaults at a time (PAGE_SIZE), so 20,000 findings stay quick. A navigation bar links the
sections; the page is a list of sections (``sections`` in render_html), so a new one is one more entry. Its
Content-Security-Policy forbids every network request, so it can be opened from a pipeline artifact or a mail.
Without JavaScript the page still shows everything.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import visible
from ansible_collections.vaultlock.azure.plugins.module_utils._kinds import kind_label
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.policy import finding_verdicts, html_section
from ansible_collections.vaultlock.azure.plugins.module_utils._rules import FLAGS, SETTING_LABEL
from ansible_collections.vaultlock.azure.plugins.module_utils._reports.document import (
    EXCLUDED_NOTE,
    already_met,
    check_report,
    discovery_text,
    _value,
    EXCLUDED_HEADER,
    excluded_row,
    excluded_tiered,
    finding_label,
    fix_cell,
    fix_kind,
    fix_text,
    has_tiers,
    is_locked,
    items_text,
    plural,
    POSTURE_LABEL,
    posture_headline,
    posture_rows,
    SCOPE_HEADER,
    scope_changed,
    scope_intro,
    scope_rows,
    TIER_HEADINGS,
    tier_rows,
    with_tier,
)

# default-src 'none': no request may leave the page (no fetch, image, font, frame or form target).
CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

COLORS = {
    'drifting': '#c62828',
    'clean': '#2e7d32',
    'fixable': '#ef8f00',
    'unfixable': '#6a1b9a',
    # The three kinds of finding (_reports.FIX_KINDS): fixable by this run is 'fixable', needs a person is 'unfixable'.
    'option': '#1565c0',
}
# Colours of the states of the posture chart: the lock's one-way state darkest, the weakest red; others from PALETTE.
STATE_COLORS = {'locked': '#1b5e20', 'always_on': '#1b5e20', 'enabled': '#66bb6a', 'on': '#66bb6a', 'disabled': '#c62828',
                'off': '#c62828', 'unknown': '#8a96a3'}
PALETTE = ('#00838f', '#ad1457', '#5d4037', '#9e9d24', '#283593', '#ef6c00')
# Vault groups per page of the findings table (the script shows one page at a time).
PAGE_SIZE = 50
# Subscriptions in a posture chart at most (the least locked first); drift.json and the posture table count them all.
CHART_MAX_ROWS = 40
KIND_CSS = {'run': 'yes', 'option': 'option', 'person': 'no'}

STYLE = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #1d232a; background: #f5f6f8; }
header { background: #14324f; color: #fff; padding: 18px 28px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 0; opacity: .85; }
main { padding: 20px 28px 40px; max-width: 1400px; }
section { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 16px 20px; margin: 0 0 18px; }
h2 { font-size: 17px; margin: 0 0 12px; }
.verdict { font-size: 16px; margin: 0 0 14px; }
.figures { display: flex; flex-wrap: wrap; gap: 12px; }
.figure { min-width: 120px; padding: 10px 14px; border-radius: 6px; background: #f0f2f5; border-left: 5px solid #8a96a3; }
.figure .value { display: block; font-size: 26px; font-weight: 700; }
.figure .label { color: #4a5561; }
.figure.drifting { border-left-color: %(drifting)s; }
.figure.clean { border-left-color: %(clean)s; }
.figure.fixable { border-left-color: %(fixable)s; }
.figure.unfixable { border-left-color: %(unfixable)s; }
.figure.option { border-left-color: %(option)s; }
.figure.errors { border-left-color: #b71c1c; }
.charts { display: flex; flex-wrap: wrap; gap: 18px; }
.charts figure { margin: 0; flex: 1 1 520px; }
figcaption { font-weight: 600; margin-bottom: 6px; }
svg text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: #1d232a; }
svg text.on-bar { fill: #fff; font-weight: 700; }
.legend { display: flex; gap: 16px; margin: 4px 0 0; padding: 0; list-style: none; color: #4a5561; }
.legend span { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
.controls { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; margin-bottom: 10px; }
.controls input, .controls select { font: inherit; padding: 5px 8px; border: 1px solid #b8c0c8; border-radius: 4px; }
.controls input { min-width: 280px; }
table { border-collapse: collapse; width: 100%%; }
section { scroll-margin-top: 40px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #e3e6ea; vertical-align: top; }
th { background: #eef1f4; position: sticky; top: 0; }
th button { font: inherit; font-weight: 600; background: none; border: 0; padding: 0; cursor: pointer; color: inherit; }
th[aria-sort="ascending"] button::after { content: " \\25B2"; }
th[aria-sort="descending"] button::after { content: " \\25BC"; }
tbody tr:nth-child(even) { background: #fafbfc; }
td.id { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; word-break: break-all; }
.tag { display: inline-block; padding: 1px 7px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff; }
.tag.yes { background: %(fixable)s; }
.tag.no { background: %(unfixable)s; }
.tag.option { background: %(option)s; }
.tag.irreversible { background: #37474f; }
nav.toc { position: sticky; top: 0; z-index: 2; background: #14324f; padding: 6px 28px; display: flex; flex-wrap: wrap; gap: 16px; }
nav.toc a { color: #fff; text-decoration: none; font-weight: 600; }
nav.toc a:hover, nav.toc a:focus { text-decoration: underline; }
.headline { font-size: 18px; font-weight: 700; margin: 0 0 12px; }
#findings { table-layout: fixed; }
#findings td, #findings th { overflow-wrap: anywhere; }
tbody.vault-group tr.vault-head th { background: #e4ebf2; font-weight: 400; border-top: 2px solid #b8c0c8; position: static; }
tbody.vault-group tr.vault-head strong { font-size: 15px; }
.pager { display: flex; gap: 10px; align-items: center; margin: 10px 0; }
.pager button { font: inherit; padding: 3px 10px; }
.empty { color: #4a5561; font-style: italic; }
footer { color: #4a5561; font-size: 12px; padding: 0 28px 24px; }
""" % COLORS

# Filtering, sorting and paging of the findings table; no library, no request. The findings are a JSON data block
# (findings-data, _findings_data); the script keeps them in arrays and puts one page of vault groups (tbody) in the
# document at a time, so 20,000 vaults never become 20,000 tbody elements. Text goes in with textContent (no markup).
SCRIPT = """
(function () {
  'use strict';
  var table = document.getElementById('findings');
  var source = document.getElementById('findings-data');
  if (!table || !source) { return; }
  var data = JSON.parse(source.textContent);
  var pageSize = data.page_size || 100;
  var text = document.getElementById('filter-text');
  var setting = document.getElementById('filter-setting');
  var fixable = document.getElementById('filter-fixable');
  var vaults = document.getElementById('filter-vaults');
  var count = document.getElementById('shown');
  var info = document.getElementById('page-info');
  var prev = document.getElementById('page-prev');
  var next = document.getElementById('page-next');
  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var columns = heads.length;
  var KIND = ['run', 'option', 'person'];
  var KIND_CSS = {run: 'yes', option: 'option', person: 'no'};
  // A vault: [id, name, type, subscription, group, tier, locked, head line, flags, findings];
  // a finding: [setting, label, have, want, fixable, kind, irreversible, why, option].
  var V = {id: 0, name: 1, type: 2, sub: 3, group: 4, tier: 5, locked: 6, head: 7, flags: 8, findings: 9};
  var total = 0;
  var groups = data.vaults.map(function (v) {
    total += v[V.findings].length;
    return {v: v, rows: v[V.findings].map(function (f) { return {f: f, ok: true, text: null}; }), text: null, keys: {}};
  });
  var order = groups.slice();
  var matched = [];
  var shownFindings = 0;
  var page = 0;
  // The page as written (the first vaults, for readers without JavaScript) makes way for the pages the script shows.
  Array.prototype.slice.call(table.tBodies).forEach(function (body) { table.removeChild(body); });

  function vaultText(group) {
    if (group.text === null) {
      var v = group.v;
      group.text = [v[V.name], v[V.type], v[V.sub], v[V.group], v[V.tier] || '', v[V.head]].concat(v[V.flags]).join(' ').toLowerCase();
    }
    return group.text;
  }
  function rowText(row) {
    if (row.text === null) {
      var f = row.f;
      var kind = f[5] === 'person' ? 'needs a person' : (f[5] === 'run' ? data.run_text : 'with');
      row.text = [f[1], f[2], f[3], f[7], f[8] || '', kind].join(' ').toLowerCase();
    }
    return row.text;
  }
  function filter() {
    var needle = text.value.trim().toLowerCase();
    var s = setting.value, k = fixable.value, w = vaults.value;
    var active = Boolean(needle || s || k);
    matched = [];
    shownFindings = 0;
    for (var g = 0; g < order.length; g += 1) {
      var group = order[g];
      var locked = group.v[V.locked];
      var rows = group.rows;
      if ((w === 'locked' && !locked) || (w === 'not-locked' && locked) || (w === 'drift' && !rows.length)) { continue; }
      var hit = Boolean(needle) && vaultText(group).indexOf(needle) !== -1;
      var n = 0;
      for (var r = 0; r < rows.length; r += 1) {
        var row = rows[r];
        var f = row.f;
        row.ok = !active || ((!needle || hit || rowText(row).indexOf(needle) !== -1) && (!s || f[0] === s) &&
          (!k || (k === 'yes' ? f[4] === 1 : (k === 'no' ? f[4] === 0 : f[5] === k))));
        if (row.ok) { n += 1; }
      }
      if (!active || n > 0 || (hit && !s && !k)) {
        matched.push(group);
        shownFindings += n;
      }
    }
    page = 0;
    render();
  }
  function cell(tr, value, css) {
    var td = document.createElement('td');
    if (css) { td.className = css; }
    td.textContent = value === null || value === undefined ? '' : value;
    tr.appendChild(td);
    return td;
  }
  function tag(td, css, value, title) {
    var span = document.createElement('span');
    span.className = 'tag ' + css;
    span.textContent = value;
    if (title) { span.title = title; }
    td.appendChild(span);
  }
  function groupElement(group) {
    var v = group.v;
    var body = document.createElement('tbody');
    body.className = 'vault-group';
    body.setAttribute('data-vault-id', v[V.id]);
    body.setAttribute('data-locked', v[V.locked] ? 'yes' : 'no');
    var head = document.createElement('tr');
    head.className = 'vault-head';
    var th = document.createElement('th');
    th.scope = 'rowgroup';
    th.colSpan = columns;
    var strong = document.createElement('strong');
    strong.textContent = v[V.name];
    th.appendChild(strong);
    th.appendChild(document.createTextNode(' \u00b7 ' + v[V.type] + ' \u00b7 subscription ' + v[V.sub] + ' \u00b7 resource group ' +
      v[V.group] + (data.tiered ? ' \u00b7 baseline tier ' + v[V.tier] : '')));
    th.appendChild(document.createElement('br'));
    th.appendChild(document.createTextNode(v[V.head]));
    head.appendChild(th);
    body.appendChild(head);
    group.rows.forEach(function (row) {
      if (!row.ok) { return; }
      var f = row.f;
      var tr = document.createElement('tr');
      tr.className = 'finding';
      tr.setAttribute('data-setting', f[0]);
      tr.setAttribute('data-fixable', f[4] ? 'yes' : 'no');
      tr.setAttribute('data-fix', f[5]);
      tr.setAttribute('data-irreversible', f[6] ? 'yes' : 'no');
      cell(tr, v[V.name]);
      if (data.tiered) { cell(tr, v[V.tier]); }
      cell(tr, v[V.type]);
      cell(tr, v[V.sub]);
      cell(tr, v[V.group], 'id');
      cell(tr, f[1]);
      cell(tr, f[2]);
      cell(tr, f[3]);
      var fix = cell(tr, '');
      tag(fix, KIND_CSS[f[5]], f[5] === 'run' ? data.run_text : (f[5] === 'option' ? 'with ' + f[8] : 'needs a person'));
      if (f[6]) { fix.appendChild(document.createTextNode(' ')); tag(fix, 'irreversible', 'irreversible', 'the fix can never be undone'); }
      cell(tr, f[7]);
      v[V.flags].forEach(function (flag) { cell(tr, flag); });
      body.appendChild(tr);
    });
    return body;
  }
  function render() {
    var pages = Math.max(1, Math.ceil(matched.length / pageSize));
    if (page >= pages) { page = pages - 1; }
    if (page < 0) { page = 0; }
    var shown = matched.slice(page * pageSize, (page + 1) * pageSize);
    var fragment = document.createDocumentFragment();
    shown.forEach(function (group) { fragment.appendChild(groupElement(group)); });
    Array.prototype.slice.call(table.tBodies).forEach(function (body) { table.removeChild(body); });
    table.appendChild(fragment);
    count.textContent = shownFindings + ' of ' + total + ' findings shown';
    info.textContent = 'vaults ' + (shown.length ? page * pageSize + 1 : 0) + '-' + (page * pageSize + shown.length) + ' of ' +
      matched.length + ' (page ' + (page + 1) + ' of ' + pages + ')';
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
  }
  // Sort keys: a vault column by the vault's value; a finding column by the finding's.
  var VAULT_KEYS = {vault: V.name, type: V.type, subscription: V.sub, group: V.group, tier: V.tier};
  var FINDING_KEYS = {finding: function (f) { return f[0] + ' ' + f[1]; }, have: function (f) { return f[2]; },
                      want: function (f) { return f[3]; }, fixable: function (f) { return KIND.indexOf(f[5]) + '' + f[6]; },
                      reason: function (f) { return f[7]; }};
  // A sort key once per value: a number when the text is one (numbers before text), else the lowercase text.
  function sortKey(value) {
    var key = String(value === null || value === undefined ? '' : value).toLowerCase();
    var number = key === '' ? NaN : Number(key);
    return isNaN(number) ? key : number;
  }
  function compare(x, y) {
    var tx = typeof x, ty = typeof y;
    if (tx !== ty) { return tx === 'number' ? -1 : 1; }
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  heads.forEach(function (th) {
    var button = th.querySelector('button');
    if (!button) { return; }
    var key = th.getAttribute('data-key');
    button.addEventListener('click', function () {
      var ascending = th.getAttribute('aria-sort') !== 'ascending';
      heads.forEach(function (other) { other.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
      var sign = ascending ? 1 : -1;
      var flag = data.flags.indexOf(key);
      var of = FINDING_KEYS[key];
      var byRow = function (a, b) { return sign * compare(a.key, b.key); };
      order.forEach(function (group) {
        if (of) {
          var rows = group.rows;
          for (var i = 0; i < rows.length; i += 1) { rows[i].key = sortKey(of(rows[i].f)); }
          if (rows.length > 1) { rows.sort(byRow); }
          group.key = rows.length ? rows[0].key : null;
        } else {
          group.key = sortKey(flag === -1 ? group.v[VAULT_KEYS[key]] : group.v[V.flags][flag]);
        }
      });
      order.sort(function (a, b) {
        if (a.key === null || b.key === null) { return (a.key === null) - (b.key === null); }
        return sign * compare(a.key, b.key);
      });
      filter();
    });
  });
  [text, setting, fixable, vaults].forEach(function (control) {
    control.addEventListener('input', filter);
    control.addEventListener('change', filter);
  });
  prev.addEventListener('click', function () { page -= 1; render(); });
  next.addEventListener('click', function () { page += 1; render(); });
  filter();
})();
"""


# Characters HTML text must not carry (NUL, other C0/C1 controls, lone surrogates): shown as U+FFFD.
_HTML_INVALID = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]')


def esc(value):
    """Text for HTML: markup escaped, what HTML must not carry as U+FFFD, what shows nothing or turns the text around it
    (U+202E, U+200B) as its code (visible())."""
    return html.escape(visible(_HTML_INVALID.sub('\ufffd', '' if value is None else str(value))), quote=True)


def _figure(value, label, css=''):
    return '<div class="figure %s" data-figure="%s"><span class="value">%s</span><span class="label">%s</span></div>' % (
        esc(css), esc(label.lower().replace(' ', '-')), esc(value), esc(label))


def _color(item):
    """A series' colour: its own third element, else COLORS of its key."""
    return item[2] if len(item) > 2 else COLORS[item[0]]


def _legend(items):
    return '<ul class="legend">%s</ul>' % ''.join(
        '<li><span style="background:%s"></span>%s</li>' % (esc(_color(item)), esc(item[1])) for item in items)


def stacked_bars(chart_id, title, rows, series):
    """A horizontal stacked bar chart as inline SVG.

    rows: [(label, {series key: count})]; series: [(key, legend label[, colour])]. Each bar segment is a <rect> with
    class ``bar <key>`` and ``data-count``, and its count is written on it when it is wide enough.
    """
    label_w, bar_w, row_h, gap, top = 290, 440, 26, 8, 6
    total_max = max([sum(counts.get(item[0], 0) for item in series) for _label, counts in rows] + [1])
    height = top * 2 + max(len(rows), 1) * (row_h + gap)
    width = label_w + bar_w + 60
    parts = ['<svg id="%s" class="chart" xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 %d %d" width="%d" height="%d">'
             % (esc(chart_id), width, height, width, height),
             '<title>%s</title>' % esc(title)]
    if not rows:
        parts.append('<text x="0" y="%d" class="empty">nothing to show</text>' % (top + 16))
    for index, (label, counts) in enumerate(rows):
        y = top + index * (row_h + gap)
        shown = label if len(label) <= 44 else label[:43] + "\u2026"
        parts.append('<g class="row" data-label="%s"><title>%s: %s</title>' % (
            esc(label), esc(label), esc(', '.join('%s %d' % (item[1], counts.get(item[0], 0)) for item in series))))
        parts.append('<text x="0" y="%d">%s</text>' % (y + row_h * 0.68, esc(shown)))
        x = label_w
        total = 0
        for item in series:
            key = item[0]
            count = counts.get(key, 0)
            total += count
            w = bar_w * count / total_max
            parts.append('<rect class="bar %s" data-count="%d" x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/>' % (
                esc(key), count, x, y, w, row_h, esc(_color(item))))
            if count and w >= 22:
                parts.append('<text class="on-bar" x="%.1f" y="%d" text-anchor="middle">%d</text>' % (x + w / 2, y + row_h * 0.68, count))
            x += w
        parts.append('<text x="%.1f" y="%d">%d</text></g>' % (x + 6, y + row_h * 0.68, total))
    parts.append('</svg>')
    return ''.join(parts)


def _subscription_rows(vaults):
    subs = {}
    for vault in vaults:
        sub = vault.get('subscription_id') or 'unknown subscription'
        counts = subs.setdefault(sub, {'drifting': 0, 'clean': 0})
        counts['drifting' if vault.get('drift') else 'clean'] += 1
    return sorted(subs.items(), key=lambda item: (-item[1]['drifting'], item[0]))


def _setting_rows(summary):
    rows = []
    for setting, counts in (summary.get('by_setting') or {}).items():
        rows.append(('%s (%s)' % (SETTING_LABEL.get(setting, setting), plural(counts.get('vaults', 0), 'vault')),
                     {'fixable': counts.get('fixable', 0), 'option': counts.get('option', 0), 'unfixable': counts.get('person', 0)}))
    return rows


# The findings-per-setting chart's series: who fixes them (fixable by this run, with an option, a person).
KIND_SERIES = [('fixable', 'fixable by this run'), ('option', 'fixable with an option'), ('unfixable', 'needs a person')]


def state_color(state, index):
    return STATE_COLORS.get(state) or PALETTE[index % len(PALETTE)]


def posture_chart(chart_id, posture, key):
    """Vaults per subscription stacked by their state of one rule (the least locked subscriptions first)."""
    rule = (posture.get('rules') or {}).get(key) or {}
    states = sorted(rule.get('states') or {}, key=lambda state: (-(rule['states'][state]), state))
    series = [('state-' + state, state.replace('_', ' '), state_color(state, index)) for index, state in enumerate(states)]
    subs = sorted((posture.get('by_subscription') or {}).items(),
                  key=lambda kv: (kv[1].get('locked', 0) - kv[1].get('vaults', 0), kv[0]))
    rows = [(sub, dict(('state-' + state, n) for state, n in ((c.get('rules') or {}).get(key) or {}).get('states', {}).items()))
            for sub, c in subs[:CHART_MAX_ROWS]]
    label = POSTURE_LABEL.get(key, key)
    chart = stacked_bars(chart_id, 'Vaults per subscription by %s state' % label, rows, series)
    more = ('<p class="empty">and %d more subscriptions: see the posture in drift.json</p>' % (len(subs) - CHART_MAX_ROWS)
            if len(subs) > CHART_MAX_ROWS else '')
    return '<figure><figcaption>Vaults per subscription: %s</figcaption>%s%s%s</figure>' % (esc(label), chart, _legend(series), more)


def _posture_section(report):
    """The section the page leads with: locked or not, each rule's vaults per state, and a chart per lock rule."""
    posture = report.get('posture')
    if not isinstance(posture, dict):
        return ''
    figures = [_figure(posture.get('vaults', 0), 'Vaults in scope'), _figure(posture.get('locked', 0), 'Locked', 'clean'),
               _figure(posture.get('not_locked', 0), 'Not locked', 'drifting')]
    table = _simple_table('posture-table', ['Rule', 'Vaults per state', 'Compliant', 'Not compliant', 'Not checked'],
                          posture_rows(posture))
    charts = ''.join(posture_chart('chart-posture-%s' % key, posture, key) for key in posture.get('lock_rules') or [])
    return ('<p class="headline" id="posture-headline">%s</p><div class="figures">%s</div><p>Each vault\'s state of every rule '
            'is in drift.json (vaults[].posture); the findings table below can show the vaults that are not locked.</p>%s'
            '<div class="charts">%s</div>' % (esc(posture_headline(posture)), ''.join(figures), table, charts))


def _data_section(discovery):
    """Where the vaults were read from and when (drift.json discovery; drift.md's "Data" line), or '' without it."""
    if not isinstance(discovery, Mapping):
        return ''
    fallbacks = [f for f in discovery.get('fallbacks') or [] if isinstance(f, Mapping)]
    body = '<p id="data-source">%s</p>' % esc('Read ' + discovery_text(discovery)[len('read '):])
    if fallbacks:
        body += '<p>%s</p>%s' % (esc('Read from Azure Resource Manager instead of Resource Graph (%s):' % plural(len(fallbacks), 'subscription')),
                                 _simple_table('fallbacks-table', ['Subscription', 'Why'],
                                               [[f.get('subscription_id'), f.get('reason')] for f in fallbacks]))
    return body


def _tag(flag, yes='yes', no='no'):
    return '<span class="tag %s">%s</span>' % ('yes' if flag else 'no', esc(yes if flag else no))


def _posture_text(vault):
    """'immutability locked, soft delete on, retention meets minimum, multi-user authorization protected'."""
    return ', '.join('%s %s' % (POSTURE_LABEL.get(key, key), str(state.get('state')).replace('_', ' '))
                     for key, state in (vault.get('posture') or {}).items())


def _kinds_text(open_findings):
    counts = {}
    for finding in open_findings:
        kind = finding.get('fix') or fix_kind(finding)
        counts[kind] = counts.get(kind, 0) + 1
    if not open_findings:
        return 'no open finding'
    words = {'run': 'fixable by this run', 'option': 'fixable with an option', 'person': 'needs a person'}
    return '%s: %s' % (plural(len(open_findings), 'open finding'),
                       ', '.join('%d %s' % (counts[k], words[k]) for k in ('run', 'option', 'person') if counts.get(k)))


def _why(finding, report=None):
    """The "Why / what a run does" cell; with an azure_policy section, then which of the definitions that check the
    finding's setting judge the vault non-compliant and which compliant (finding_verdicts)."""
    why = finding.get('reason') or ''
    if (finding.get('fix') or fix_kind(finding)) == 'option':
        why = 'set %s: %s' % (finding.get('option'), why) if why else 'set %s' % finding.get('option')
    verdicts = finding_verdicts(report, finding) if report is not None else ''
    if verdicts:
        why = '%s. Azure Policy: %s' % (why.rstrip('.'), verdicts) if why else 'Azure Policy: %s' % verdicts
    return why


def _head_line(vault, open_findings):
    return '%s \u00b7 %s' % (_posture_text(vault), _kinds_text(open_findings))


def script_json(value):
    """JSON for a <script type="application/json"> block: '<', '>' and '&' as escapes, so no text can close the element;
    what shows nothing or turns the text around it (U+202E) reads as its code once the page puts it in with textContent."""
    text = visible(_HTML_INVALID.sub('\ufffd', json.dumps(value, ensure_ascii=False, separators=(',', ':'))), in_json=True)
    return text.replace('<', '\\u003c').replace('>', '\\u003e').replace('&', '\\u0026').replace(
        '\u2028', '\\u2028').replace('\u2029', '\\u2029')


def _findings_data(vaults, tiered, report=None):
    """The findings table's data block: every vault in scope and its open findings as arrays (the script's V and finding
    layouts), so the page carries 20,000 vaults as data, not as elements."""
    rows = []
    for vault in vaults:
        open_findings = [f for f in vault.get('findings') or [] if not f.get('resolved')]
        findings = []
        for finding in open_findings:
            kind = finding.get('fix') or fix_kind(finding)
            findings.append([str(finding.get('setting')), finding_label(finding), _value(finding.get('have')), _value(finding.get('want')),
                             1 if finding.get('fixable') else 0, kind, 1 if finding.get('irreversible') else 0, _why(finding, report),
                             finding.get('option')])
        rows.append([vault.get('id'), vault.get('name'), kind_label(vault.get('vault_type')), vault.get('subscription_id'),
                     vault.get('resource_group'), vault.get('tier') if tiered else None, 1 if is_locked(vault) else 0,
                     _head_line(vault, open_findings), ['yes' if flag.of(vault) else 'no' for flag in FLAGS], findings])
    data = {'page_size': PAGE_SIZE, 'tiered': bool(tiered), 'flags': [flag.key for flag in FLAGS], 'vaults': rows,
            'run_text': run_text((report or {}).get('check_mode', True))}
    return '<script type="application/json" id="findings-data">%s</script>' % script_json(data)


def run_text(check_mode):
    """The tag of an open finding this run fixes: after a real run its change failed or was not made."""
    return 'fixable by this run' if check_mode else 'not fixed by this run'


def _fix_options(check_mode):
    """The Fix filter's choices: the states the page's findings can have. After a real run an open finding this run fixes
    is one whose change failed or was not made (run_text); "not fixable by this run" is a check run's choice only."""
    choices = [('', 'all'), ('yes', run_text(check_mode))] + ([('no', 'not fixable by this run')] if check_mode else []) + [
        ('option', 'fixable with an option'), ('person', 'needs a person')]
    return ''.join('<option value="%s">%s</option>' % (esc(value), esc(label)) for value, label in choices)


def _fix_tag(finding, check_mode=True):
    kind = finding.get('fix') or fix_kind(finding)
    text = {'run': run_text(check_mode), 'option': 'with %s' % finding.get('option'), 'person': 'needs a person'}[kind]
    return '<span class="tag %s" title="%s">%s</span>' % (KIND_CSS[kind], esc(fix_cell(finding, check_mode)), esc(text))


# The findings table's columns: (key, heading, scope); scope 'vault' sorts the vault groups by the vault's own value.
VAULT_COLUMNS = [('vault', 'Vault', 'vault'), ('type', 'Type', 'vault'), ('subscription', 'Subscription', 'vault'),
                 ('group', 'Resource group', 'vault')]
FINDING_COLUMNS = [('finding', 'Finding', 'finding'), ('have', 'Have', 'finding'), ('want', 'Want', 'finding'),
                   ('fixable', 'Fix', 'finding'), ('reason', 'Why / what a run does', 'finding')]


def _findings_table(vaults, tiered=False, report=None):
    """The findings grouped by vault: one tbody per vault (every vault in scope, so the page can also list the vaults that
    are not locked), its head row with the vault's posture, then one row per open finding."""
    header = with_tier(VAULT_COLUMNS + FINDING_COLUMNS + [(flag.key, flag.column, 'vault') for flag in FLAGS],
                       ('tier', 'Baseline tier', 'vault'), tiered)
    groups = []
    settings = []
    count = 0
    for index, vault in enumerate(vaults):
        for finding in vault.get('findings') or []:
            if finding.get('resolved'):
                continue
            count += 1
            if str(finding.get('setting')) not in settings:
                settings.append(str(finding.get('setting')))
        if index >= PAGE_SIZE:
            # Past the first page the findings are only in the data block (the script pages through them).
            continue
        flags = [(flag.key, 'yes' if flag.of(vault) else 'no') for flag in FLAGS]
        flag_cells = ''.join('<td>%s</td>' % esc(value) for _key, value in flags)
        open_findings = [f for f in vault.get('findings') or [] if not f.get('resolved')]
        rows = []
        for finding in open_findings:
            setting = str(finding.get('setting'))
            fixable = bool(finding.get('fixable'))
            irreversible = bool(finding.get('irreversible'))
            kind = finding.get('fix') or fix_kind(finding)
            fix_cell_html = _fix_tag(finding, (report or {}).get('check_mode', True))
            if irreversible:
                fix_cell_html += ' <span class="tag irreversible" title="the fix can never be undone">irreversible</span>'
            why = _why(finding, report)
            rows.append(
                '<tr class="finding" data-setting="%s" data-fixable="%s" data-fix="%s" data-irreversible="%s" data-vault-id="%s">'
                '<td>%s</td>%s<td>%s</td><td class="id">%s</td><td>%s</td><td data-sort="%s">%s</td><td>%s</td><td>%s</td>'
                '<td data-sort="%s">%s</td><td>%s</td>%s</tr>' % (
                    esc(setting), 'yes' if fixable else 'no', esc(kind), 'yes' if irreversible else 'no', esc(vault.get('id')),
                    esc(vault.get('name')), ('<td>%s</td>' % esc(vault.get('tier') or '')) if tiered else '',
                    esc(kind_label(vault.get('vault_type'))),
                    esc(vault.get('subscription_id')), esc(vault.get('resource_group')),
                    esc(setting + ' ' + finding_label(finding).lower()), esc(finding_label(finding)),
                    esc(_value(finding.get('have'))), esc(_value(finding.get('want'))),
                    '%d%d' % (('run', 'option', 'person').index(kind), 1 if irreversible else 0), fix_cell_html,
                    esc(why), flag_cells))
        sort_keys = [('vault', vault.get('name')), ('type', kind_label(vault.get('vault_type'))), ('subscription', vault.get('subscription_id')),
                     ('group', vault.get('resource_group')), ('tier', vault.get('tier'))] + flags
        head = ('<tr class="vault-head"><th scope="rowgroup" colspan="%d"><strong>%s</strong> &middot; %s &middot; subscription %s '
                '&middot; resource group %s%s<br>%s</th></tr>' % (
                    len(header), esc(vault.get('name')), esc(kind_label(vault.get('vault_type'))), esc(vault.get('subscription_id')),
                    esc(vault.get('resource_group')), (' &middot; baseline tier %s' % esc(vault.get('tier'))) if tiered else '',
                    esc(_head_line(vault, open_findings))))
        groups.append('<tbody class="vault-group" data-vault-id="%s" data-locked="%s" data-drift="%s" %s>%s%s</tbody>' % (
            esc(vault.get('id')), 'yes' if is_locked(vault) else 'no', 'yes' if open_findings else 'no',
            ' '.join('data-k-%s="%s"' % (esc(key), esc(str(value or '').lower())) for key, value in sort_keys),
            head, ''.join(rows)))
    options = ''.join('<option value="%s">%s</option>' % (esc(s), esc(SETTING_LABEL.get(s, s))) for s in settings)
    controls = (
        '<div class="controls">'
        '<label>Filter <input id="filter-text" type="search" placeholder="vault, subscription, policy, reason..."></label>'
        '<label>Vaults <select id="filter-vaults"><option value="drift" selected>with open findings</option>'
        '<option value="all">all in scope</option><option value="not-locked">not locked</option>'
        '<option value="locked">locked</option></select></label>'
        '<label>Setting <select id="filter-setting"><option value="">all</option>%s</select></label>'
        '<label>Fix <select id="filter-fixable">%s</select></label>'
        '<span id="shown" aria-live="polite">%s</span></div>'
        '<div class="pager"><button type="button" id="page-prev">previous</button><button type="button" id="page-next">next'
        '</button><span id="page-info">%s</span></div>' % (
            options, _fix_options((report or {}).get('check_mode', True)), esc(plural(count, 'finding')),
            esc('vaults 1-%d of %d: the rest are in drift.json (or turn JavaScript on)' % (min(PAGE_SIZE, len(vaults)), len(vaults))
                if len(vaults) > PAGE_SIZE else plural(len(vaults), 'vault'))))
    head = ''.join('<th scope="col" data-key="%s" data-scope="%s"><button type="button">%s</button></th>' % (esc(k), esc(scope), esc(label))
                   for k, label, scope in header)
    body = ''.join(groups) or '<tbody><tr><td colspan="%d" class="empty">no vault in scope</td></tr></tbody>' % len(header)
    table = controls + '<table id="findings" data-page-size="%d"><thead><tr>%s</tr></thead>%s</table>' % (PAGE_SIZE, head, body)
    return table + _findings_data(vaults, tiered, report), count


def _simple_table(table_id, header, rows):
    head = ''.join('<th scope="col">%s</th>' % esc(h) for h in header)
    body = ''.join('<tr>%s</tr>' % ''.join('<td>%s</td>' % esc(cell) for cell in row) for row in rows)
    return '<table id="%s"><thead><tr>%s</tr></thead><tbody>%s</tbody></table>' % (esc(table_id), head, body)


def render_html(report):
    """drift.html text from a drift_report_json document."""
    check_report(report)
    summary = report['summary']
    vaults = report['vaults']
    check_mode = report.get('check_mode', True)
    run = 'check mode' if check_mode else 'real run'
    errors = report.get('errors') or []
    changed = report.get('changed') or []

    if summary.get('drifting'):
        verdict = '%d of %s drift from the baseline: %s, %d fixable, %d not fixable.' % (
            summary['drifting'], plural(summary['vaults'], 'vault'), plural(summary['findings'], 'finding'),
            summary['fixable'], summary['unfixable'])
    elif not summary.get('vaults'):
        verdict = 'No vault checked: this report judges no vault, so it says nothing about drift.'
    else:
        verdict = 'No drift: %s checked, all meet the baseline.' % plural(summary.get('vaults', 0), 'vault')
    if errors:
        verdict += ' %s: some vaults may not have been checked or changed.' % plural(len(errors), 'error')

    figures = [_figure(summary.get('vaults', 0), 'Vaults'), _figure(summary.get('drifting', 0), 'Drifting', 'drifting'),
               _figure(summary.get('clean', 0), 'Clean', 'clean'), _figure(summary.get('findings', 0), 'Findings'),
               _figure(summary.get('fixable', 0), 'Fixable', 'fixable'), _figure(summary.get('unfixable', 0), 'Not fixable', 'unfixable'),
               _figure((summary.get('by_fix') or {}).get('option', 0), 'Fixable with an option', 'option'),
               _figure((summary.get('by_fix') or {}).get('person', 0), 'Needs a person', 'unfixable')]
    figures += [_figure(summary.get(flag.count, 0), flag.figure) for flag in FLAGS]
    if not check_mode:
        figures += [_figure(summary.get('resolved', 0), 'Resolved'), _figure(summary.get('changed', 0), 'Vaults changed')]
    else:
        figures.append(_figure(summary.get('changed', 0), 'Would change'))
    figures.append(_figure(len(errors), 'Errors', 'errors'))

    sub_chart = stacked_bars('chart-subscriptions', 'Vaults per subscription: drifting and clean', _subscription_rows(vaults)[:CHART_MAX_ROWS],
                             [('drifting', 'drifting'), ('clean', 'clean')])
    setting_chart = stacked_bars('chart-settings', 'Findings per setting: who fixes them', _setting_rows(summary), KIND_SERIES)
    tiered = has_tiers(report)
    table, _count = _findings_table(vaults, tiered, report)

    # The page's sections in order, (id, title, body html); the navigation bar links each. A new section is one more entry.
    sections = [
        ('data', 'Data', _data_section(report.get('discovery'))),
        ('posture', 'Posture', _posture_section(report)),
        ('summary', 'Summary', '<p class="verdict">%s</p><p id="fix-kinds">%s</p><div class="figures">%s</div>' % (
            esc(verdict), esc('Findings by who fixes them: %s.' % fix_text(summary, check_mode, already_met(report))), ''.join(figures))),
        ('charts', 'Where the drift is', '<div class="charts"><figure><figcaption>Vaults per subscription</figcaption>%s%s</figure>'
         '<figure><figcaption>Findings per setting</figcaption>%s%s</figure></div>' % (
             sub_chart, _legend([('drifting', 'drifting'), ('clean', 'clean')]), setting_chart, _legend(KIND_SERIES))),
        ('drift', 'Findings by vault', table),
    ]
    if tiered:
        counts = summary.get('by_tier') or {}
        rows = [row[:1] + [str(counts.get(row[0], {}).get(k, 0)) for k in ('vaults', 'drifting', 'findings')] + row[1:]
                for row in tier_rows(report)]
        sections.append(('tiers', 'Baseline tiers', '<p>Tried in order, the first match wins; a vault no tier matches is judged '
                         'against the default tier.</p>%s' % _simple_table(
                             'tiers-table', ['Baseline tier', 'Vaults', 'Drifting', 'Findings', 'Match', *TIER_HEADINGS,
                                             'Lock requirements'], rows)))
    if changed:
        rows = []
        for vault in changed:
            for change in vault.get('changes') or []:
                what = SETTING_LABEL.get(change.get('setting'), change.get('setting'))
                extra = ', '.join('%s %s' % (k, change[k]) for k in ('policy', 'tier') if change.get(k))
                rows.append(with_tier([vault.get('name'), kind_label(vault.get('vault_type')), vault.get('subscription_id'),
                                       vault.get('resource_group'), '%s: %s' % (what, extra) if extra else what,
                                       _value(change.get('before')), _value(change.get('after'))], vault.get('tier'), tiered))
        sections.append(('changes', 'Would change' if check_mode else 'Changed', _simple_table(
            'changes-table', with_tier(['Vault', 'Type', 'Subscription', 'Resource group', 'Change', 'Before', 'After'],
                                       'Baseline tier', tiered), rows)))
    lock_rows = report.get('lock_readiness') or []
    if lock_rows:
        ready = sum(1 for row in lock_rows if row.get('ready'))
        sections.append(('lock-readiness', 'Lock readiness', '<p>%s</p>%s<h3>What locking commits to</h3><ul>%s</ul>' % (
            esc('%s the baseline would lock: %d ready, %d not ready (never locked). Locking can never be undone.' % (
                plural(len(lock_rows), 'vault'), ready, len(lock_rows) - ready)),
            _simple_table('lock-readiness-table', with_tier(['Vault', 'Type', 'Subscription', 'Resource group', 'Ready', 'Status', 'Items',
                                                             'Held until', 'Blockers'], 'Baseline tier', tiered),
                          [with_tier([row.get('name'), kind_label(row.get('vault_type')), row.get('subscription_id'), row.get('resource_group'),
                                      'yes' if row.get('ready') else 'no', row.get('status'), items_text(row), row.get('held_until') or 'nothing held',
                                      '; '.join(str(b.get('message')) for b in row.get('blockers') or []) or '-'], row.get('tier'), tiered)
                           for row in lock_rows]),
            ''.join('<li><strong>%s</strong>: %s</li>' % (esc(row.get('name')), esc('; '.join(row.get('commitments') or [])))
                    for row in lock_rows))))
    if errors:
        sections.append(('errors', 'Errors', _simple_table(
            'errors-table', ['Scope', 'Action', 'Message'],
            [[e.get('scope'), e.get('action') or 'discovery', e.get('message')] for e in errors])))
    changes = report.get('scope_changes')
    if scope_changed(changes):
        # What left the scope since the previous report (drift.md "Left the scope"): vaults this run could not check.
        subs = changes.get('subscriptions_left') or []
        sections.append(('scope', 'Left the scope', '<p>%s</p>%s%s' % (
            esc(scope_intro(changes)), _simple_table('scope-table', SCOPE_HEADER, scope_rows(changes)) if scope_rows(changes) else '',
            ('<p>%s</p>' % esc('Subscriptions no longer listed for this identity: %s.' % ', '.join(str(sub) for sub in subs))) if subs else '')))
    excluded = report.get('excluded_vaults') or []
    if excluded:
        sections.append(('excluded', 'Not checked (excluded)', '<p>%s</p>%s' % (
            esc(EXCLUDED_NOTE), _simple_table('excluded-table', with_tier(EXCLUDED_HEADER, 'Baseline tier', excluded_tiered(report)),
                                              [excluded_row(vault, excluded_tiered(report)) for vault in excluded]))))
    policy_html = html_section(report, esc)
    if policy_html:
        sections.append(('azure-policy', 'Azure Policy', policy_html))
    warnings = report.get('warnings') or []
    if warnings:
        sections.append(('warnings', 'Warnings', '<ul>%s</ul>' % ''.join('<li>%s</li>' % esc(warning) for warning in warnings)))
    sections = [section for section in sections if section[2]]

    out = ['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">',
           '<meta http-equiv="Content-Security-Policy" content="%s">' % esc(CSP),
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           '<meta name="generator" content="vaultlock.azure drift_report_html">',
           '<title>Backup vault drift report (%s, %s)</title>' % (esc(run), esc(report.get('generated_at'))),
           '<style>%s</style></head><body>' % STYLE,
           '<header><h1>Backup vault drift report</h1><p>%s &middot; generated %s &middot; report schema %s</p></header>' % (
               esc(run.capitalize()), esc(report.get('generated_at')), esc(report.get('schema_version'))),
           '<nav class="toc" aria-label="Sections">%s</nav><main>' % ''.join(
               '<a href="#%s">%s</a>' % (esc(section_id), esc(title)) for section_id, title, _body in sections)]
    out.extend('<section id="%s"><h2>%s</h2>%s</section>' % (esc(section_id), esc(title), body) for section_id, title, body in sections)
    out.append('</main><footer>Written by the vaultlock.azure collection from drift.json (schema %s). '
               'This page loads nothing from the network.</footer>' % esc(report.get('schema_version')))
    out.append('<script>%s</script></body></html>' % SCRIPT)
    return '\n'.join(out) + '\n'
