# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""drift.html: the drift report as one self-contained page for people (pure, no I/O).

``render_html(report)`` takes the drift.json document (module_utils/_reports.py). The page has no external
script, style, font or image: headline figures, inline SVG charts (vaults per subscription, drifting vs
clean; findings per setting, fixable vs not), and the findings table, which a small inline script sorts
and filters in the browser. Its Content-Security-Policy forbids every network request, so it can be
opened from a pipeline artifact or a mail. Without JavaScript the page still shows everything.
"""

from __future__ import annotations

import html
import re

from ansible_collections.vaultlock.azure.plugins.module_utils._kinds import kind_label
from ansible_collections.vaultlock.azure.plugins.module_utils._report_policy import html_section
from ansible_collections.vaultlock.azure.plugins.module_utils._rules import FLAGS, SETTING_LABEL
from ansible_collections.vaultlock.azure.plugins.module_utils._reports import (
    _check_report,
    _value,
    finding_label,
    has_tiers,
    items_text,
    plural,
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
}

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
.tag.irreversible { background: #37474f; }
.empty { color: #4a5561; font-style: italic; }
footer { color: #4a5561; font-size: 12px; padding: 0 28px 24px; }
""" % COLORS

# Sorting and filtering of the findings table; no library, no request. Rows carry data-* attributes.
SCRIPT = """
(function () {
  'use strict';
  var table = document.getElementById('findings');
  if (!table) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var text = document.getElementById('filter-text');
  var setting = document.getElementById('filter-setting');
  var fixable = document.getElementById('filter-fixable');
  var count = document.getElementById('shown');
  function apply() {
    var needle = text.value.trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (row) {
      var ok = (!needle || row.textContent.toLowerCase().indexOf(needle) !== -1) &&
        (!setting.value || row.getAttribute('data-setting') === setting.value) &&
        (!fixable.value || row.getAttribute('data-fixable') === fixable.value);
      row.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = shown + ' of ' + rows.length + ' findings shown';
  }
  function key(row, index) {
    var cell = row.cells[index];
    return cell.getAttribute('data-sort') || cell.textContent.trim().toLowerCase();
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
    var button = th.querySelector('button');
    if (!button) { return; }
    button.addEventListener('click', function () {
      var ascending = th.getAttribute('aria-sort') !== 'ascending';
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (other) { other.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
      rows.sort(function (a, b) {
        var x = key(a, index), y = key(b, index);
        var nx = parseFloat(x), ny = parseFloat(y);
        var order = (!isNaN(nx) && !isNaN(ny) && String(nx) === x && String(ny) === y) ? nx - ny : x.localeCompare(y);
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
  [text, setting, fixable].forEach(function (control) {
    control.addEventListener('input', apply);
    control.addEventListener('change', apply);
  });
  apply();
})();
"""


# Characters HTML text must not carry (NUL, other C0/C1 controls, lone surrogates): shown as U+FFFD.
_HTML_INVALID = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]')


def esc(value):
    return html.escape(_HTML_INVALID.sub('\ufffd', '' if value is None else str(value)), quote=True)


def _figure(value, label, css=''):
    return '<div class="figure %s" data-figure="%s"><span class="value">%s</span><span class="label">%s</span></div>' % (
        esc(css), esc(label.lower().replace(' ', '-')), esc(value), esc(label))


def _legend(items):
    return '<ul class="legend">%s</ul>' % ''.join(
        '<li><span style="background:%s"></span>%s</li>' % (COLORS[key], esc(label)) for key, label in items)


def stacked_bars(chart_id, title, rows, series):
    """A horizontal stacked bar chart as inline SVG.

    rows: [(label, {series key: count})]; series: [(key, legend label)]. Each bar segment is a <rect> with
    class ``bar <key>`` and ``data-count``, and its count is written on it when it is wide enough.
    """
    label_w, bar_w, row_h, gap, top = 290, 440, 26, 8, 6
    total_max = max([sum(counts.get(key, 0) for key, _name in series) for _label, counts in rows] + [1])
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
            esc(label), esc(label), esc(', '.join('%s %d' % (name, counts.get(key, 0)) for key, name in series))))
        parts.append('<text x="0" y="%d">%s</text>' % (y + row_h * 0.68, esc(shown)))
        x = label_w
        total = 0
        for key, _name in series:
            count = counts.get(key, 0)
            total += count
            w = bar_w * count / total_max
            parts.append('<rect class="bar %s" data-count="%d" x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/>' % (
                esc(key), count, x, y, w, row_h, COLORS[key]))
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
                     {'fixable': counts.get('fixable', 0), 'unfixable': counts.get('unfixable', 0)}))
    return rows


def _tag(flag, yes='yes', no='no'):
    return '<span class="tag %s">%s</span>' % ('yes' if flag else 'no', esc(yes if flag else no))


def _findings_table(vaults, tiered=False):
    header = with_tier([('vault', 'Vault'), ('type', 'Type'), ('subscription', 'Subscription'), ('group', 'Resource group'),
                        ('finding', 'Finding'), ('have', 'Have'), ('want', 'Want'), ('fixable', 'Fixable'),
                        ('reason', 'Why / what a run does')] + [(flag.key, flag.column) for flag in FLAGS],
                       ('tier', 'Baseline tier'), tiered)
    rows = []
    settings = []
    for vault in vaults:
        flag_cells = ''.join('<td>%s</td>' % esc('yes' if flag.of(vault) else 'no') for flag in FLAGS)
        for finding in vault.get('findings') or []:
            if finding.get('resolved'):
                continue
            setting = str(finding.get('setting'))
            if setting not in settings:
                settings.append(setting)
            fixable = bool(finding.get('fixable'))
            irreversible = bool(finding.get('irreversible'))
            fix_cell = _tag(fixable)
            if irreversible:
                fix_cell += ' <span class="tag irreversible" title="the fix can never be undone">irreversible</span>'
            rows.append(
                '<tr data-setting="%s" data-fixable="%s" data-irreversible="%s" data-vault-id="%s">'
                '<td>%s</td>%s<td>%s</td><td class="id">%s</td><td>%s</td><td data-sort="%s">%s</td><td>%s</td><td>%s</td>'
                '<td data-sort="%s">%s</td><td>%s</td>%s</tr>' % (
                    esc(setting), 'yes' if fixable else 'no', 'yes' if irreversible else 'no', esc(vault.get('id')),
                    esc(vault.get('name')), ('<td>%s</td>' % esc(vault.get('tier') or '')) if tiered else '',
                    esc(kind_label(vault.get('vault_type'))),
                    esc(vault.get('subscription_id')), esc(vault.get('resource_group')),
                    esc(setting + ' ' + finding_label(finding).lower()), esc(finding_label(finding)),
                    esc(_value(finding.get('have'))), esc(_value(finding.get('want'))),
                    ('1' if fixable else '0') + ('1' if irreversible else '0'), fix_cell,
                    esc(finding.get('reason') or ''), flag_cells))
    options = ''.join('<option value="%s">%s</option>' % (esc(s), esc(SETTING_LABEL.get(s, s))) for s in settings)
    controls = (
        '<div class="controls">'
        '<label>Filter <input id="filter-text" type="search" placeholder="vault, subscription, policy, reason..."></label>'
        '<label>Setting <select id="filter-setting"><option value="">all</option>%s</select></label>'
        '<label>Fixable <select id="filter-fixable"><option value="">all</option><option value="yes">fixable</option>'
        '<option value="no">not fixable</option></select></label>'
        '<span id="shown" aria-live="polite">%s shown</span></div>' % (options, esc(plural(len(rows), 'finding'))))
    head = ''.join('<th scope="col" data-key="%s"><button type="button">%s</button></th>' % (esc(k), esc(label)) for k, label in header)
    body = ''.join(rows) or '<tr><td colspan="%d" class="empty">no open finding</td></tr>' % len(header)
    return controls + '<table id="findings"><thead><tr>%s</tr></thead><tbody>%s</tbody></table>' % (head, body), len(rows)


def _simple_table(table_id, header, rows):
    head = ''.join('<th scope="col">%s</th>' % esc(h) for h in header)
    body = ''.join('<tr>%s</tr>' % ''.join('<td>%s</td>' % esc(cell) for cell in row) for row in rows)
    return '<table id="%s"><thead><tr>%s</tr></thead><tbody>%s</tbody></table>' % (esc(table_id), head, body)


def render_html(report):
    """drift.html text from a drift_report_json document."""
    _check_report(report)
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
    else:
        verdict = 'No drift: %s checked, all meet the baseline.' % plural(summary.get('vaults', 0), 'vault')
    if errors:
        verdict += ' %s: some vaults may not have been checked or changed.' % plural(len(errors), 'error')

    figures = [_figure(summary.get('vaults', 0), 'Vaults'), _figure(summary.get('drifting', 0), 'Drifting', 'drifting'),
               _figure(summary.get('clean', 0), 'Clean', 'clean'), _figure(summary.get('findings', 0), 'Findings'),
               _figure(summary.get('fixable', 0), 'Fixable', 'fixable'), _figure(summary.get('unfixable', 0), 'Not fixable', 'unfixable')]
    figures += [_figure(summary.get(flag.count, 0), flag.figure) for flag in FLAGS]
    if not check_mode:
        figures += [_figure(summary.get('resolved', 0), 'Resolved'), _figure(summary.get('changed', 0), 'Vaults changed')]
    else:
        figures.append(_figure(summary.get('changed', 0), 'Would change'))
    figures.append(_figure(len(errors), 'Errors', 'errors'))

    sub_chart = stacked_bars('chart-subscriptions', 'Vaults per subscription: drifting and clean', _subscription_rows(vaults),
                             [('drifting', 'drifting'), ('clean', 'clean')])
    setting_chart = stacked_bars('chart-settings', 'Findings per setting: fixable and not fixable', _setting_rows(summary),
                                 [('fixable', 'fixable'), ('unfixable', 'not fixable')])
    tiered = has_tiers(report)
    table, _count = _findings_table(vaults, tiered)

    out = ['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">',
           '<meta http-equiv="Content-Security-Policy" content="%s">' % esc(CSP),
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           '<meta name="generator" content="vaultlock.azure drift_report_html">',
           '<title>Backup vault drift report (%s, %s)</title>' % (esc(run), esc(report.get('generated_at'))),
           '<style>%s</style></head><body>' % STYLE,
           '<header><h1>Backup vault drift report</h1><p>%s &middot; generated %s &middot; report schema %s</p></header><main>' % (
               esc(run.capitalize()), esc(report.get('generated_at')), esc(report.get('schema_version'))),
           '<section id="summary"><h2>Summary</h2><p class="verdict">%s</p><div class="figures">%s</div></section>' % (
               esc(verdict), ''.join(figures)),
           '<section id="charts"><h2>Where the drift is</h2><div class="charts">',
           '<figure><figcaption>Vaults per subscription</figcaption>%s%s</figure>' % (
               sub_chart, _legend([('drifting', 'drifting'), ('clean', 'clean')])),
           '<figure><figcaption>Findings per setting</figcaption>%s%s</figure>' % (
               setting_chart, _legend([('fixable', 'fixable by the playbook'), ('unfixable', 'not fixable here')])),
           '</div></section>',
           '<section id="drift"><h2>Findings</h2>%s</section>' % table]
    if tiered:
        counts = summary.get('by_tier') or {}
        rows = [row[:1] + [str(counts.get(row[0], {}).get(k, 0)) for k in ('vaults', 'drifting', 'findings')] + row[1:]
                for row in tier_rows(report)]
        out.append('<section id="tiers"><h2>Baseline tiers</h2><p>Tried in order, the first match wins; a vault no tier matches '
                   'is judged against the default tier.</p>%s</section>' % _simple_table(
                       'tiers-table', ['Baseline tier', 'Vaults', 'Drifting', 'Findings', 'Match', *TIER_HEADINGS,
                                       'Lock requirements'], rows))
    if changed:
        rows = []
        for vault in changed:
            for change in vault.get('changes') or []:
                what = SETTING_LABEL.get(change.get('setting'), change.get('setting'))
                extra = ', '.join('%s %s' % (k, change[k]) for k in ('policy', 'tier') if change.get(k))
                rows.append(with_tier([vault.get('name'), kind_label(vault.get('vault_type')), vault.get('subscription_id'),
                                       vault.get('resource_group'), '%s: %s' % (what, extra) if extra else what,
                                       _value(change.get('before')), _value(change.get('after'))], vault.get('tier'), tiered))
        out.append('<section id="changes"><h2>%s</h2>%s</section>' % (
            'Would change' if check_mode else 'Changed',
            _simple_table('changes-table', with_tier(['Vault', 'Type', 'Subscription', 'Resource group', 'Change', 'Before', 'After'],
                                                     'Baseline tier', tiered), rows)))
    lock_rows = report.get('lock_readiness') or []
    if lock_rows:
        ready = sum(1 for row in lock_rows if row.get('ready'))
        out.append('<section id="lock-readiness"><h2>Lock readiness</h2><p>%s</p>%s<h3>What locking commits to</h3><ul>%s</ul></section>' % (
            esc('%s the baseline would lock: %d ready, %d not ready (never locked). Locking can never be undone.' % (
                plural(len(lock_rows), 'vault'), ready, len(lock_rows) - ready)),
            _simple_table('lock-readiness-table', with_tier(['Vault', 'Type', 'Subscription', 'Resource group', 'Ready', 'Status', 'Items',
                                                             'Held until', 'Blockers'], 'Baseline tier', tiered),
                          [with_tier([row.get('name'), kind_label(row.get('vault_type')), row.get('subscription_id'), row.get('resource_group'),
                                      'yes' if row.get('ready') else 'no', row.get('status'), items_text(row), row.get('held_until') or 'nothing held',
                                      '; '.join(str(b.get('message')) for b in row.get('blockers') or []) or '-'], row.get('tier'), tiered)
                           for row in lock_rows]),
            ''.join('<li><strong>%s</strong>: %s</li>' % (esc(row.get('name')), esc('; '.join(row.get('commitments') or [])))
                    for row in lock_rows)))
    if errors:
        out.append('<section id="errors"><h2>Errors</h2>%s</section>' % _simple_table(
            'errors-table', ['Scope', 'Action', 'Message'],
            [[e.get('scope'), e.get('action') or 'discovery', e.get('message')] for e in errors]))
    policy_html = html_section(report, esc)
    if policy_html:
        out.append(policy_html)
    warnings = report.get('warnings') or []
    if warnings:
        out.append('<section id="warnings"><h2>Warnings</h2><ul>%s</ul></section>' % ''.join(
            '<li>%s</li>' % esc(warning) for warning in warnings))
    out.append('</main><footer>Written by the vaultlock.azure collection from drift.json (schema %s). '
               'This page loads nothing from the network.</footer>' % esc(report.get('schema_version')))
    out.append('<script>%s</script></body></html>' % SCRIPT)
    return '\n'.join(out) + '\n'
