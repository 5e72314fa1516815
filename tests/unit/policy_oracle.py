# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An Azure Policy evaluator written for the tests, independent of plugins/module_utils/_policy, and random vault bodies.

It reads the definitions from tests/fixtures/azure_policy/*.json (the files as Azure/azure-policy has them) and derives
each alias' property path from Azure's alias list in tests/fixtures/azure_policy/aliases/ (SOURCE.txt), never from the
collection's tables. Only what the 14 definitions use: allOf/anyOf/not, field/value/count(+where), equals, notEquals, in,
notIn, exists, contains, less, and [parameters('x')]. Strings compare case-insensitively and a boolean equals the string of
its value (Microsoft Learn, "Azure Policy definition structure: policy rule"; see _same); an absent property selects null
("Author policies for array properties"), which equals nothing, and a property present as null is taken as absent (no
Microsoft source says otherwise; assumed, the safe side: the negated conditions the definitions use then flag the vault).

Empty values: Learn's "Azure Policy definition structure policy rule" (Conditions) lists ``"exists": "bool"`` and says
nothing of a property present as "", [] or {}, nor whether an absent one equals "" (read again for this: the page at
MicrosoftDocs/azure-docs 03e5750af10b, articles/governance/policy/concepts/definition-structure-policy-rule.md). So the
oracle reads every rule both ways, as the collection does (its _policy._evaluator.EMPTY_READING): as written ("", [] and
{} exist, an absent property equals nothing) and with every empty value (absent, null, "", [], {}) taken as not existing
and equal to "" (``Oracle(..., empty=True)``); a vault is non-compliant when either reading says so (``verdict``).
"""

from __future__ import annotations

import json
import random
import re

from tests.fixtures import FIXTURES

POLICY = FIXTURES / 'azure_policy'
RS_TYPE = 'Microsoft.RecoveryServices/vaults'
BV_TYPE = 'Microsoft.DataProtection/backupVaults'
KIND_TYPE = {'recovery_services': RS_TYPE, 'backup': BV_TYPE}


def load_definitions():
    """[(file name, definition JSON)] of the 14 definitions that judge a vault property, sorted by file name (the
    deployIfNotExists definition for diagnostic settings judges a related resource: tests/unit/plugins/module_utils/
    test_policy_dine.py)."""
    found = [(path.name, json.loads(path.read_text(encoding='utf-8'))) for path in sorted(POLICY.glob('*.json'))]
    return [(name, doc) for name, doc in found
            if str(doc['properties']['policyRule']['then']['effect']).lower() != 'deployifnotexists']


def load_aliases():
    """{alias lower-cased: default path} from the alias tables."""
    table = {}
    for path in (POLICY / 'aliases').glob('*.md'):
        for line in path.read_text(encoding='utf-8').splitlines():
            cells = [cell.strip().strip('`') for cell in line.strip().strip('|').split('|')]
            if len(cells) == 2 and '/' in cells[1]:
                table[cells[1].lower()] = cells[0]
    return table


ALIASES = load_aliases()
_ABSENT = object()


def _lookup(node, key):
    if not isinstance(node, dict):
        return _ABSENT
    for name, value in node.items():
        if name.lower() == key.lower():
            return _ABSENT if value is None else value
    return _ABSENT


def _walk(node, segments):
    """Values at a dotted path with [*] steps: a list of leaves (one per array member on the way)."""
    if not segments:
        return [node]
    head, rest = segments[0], segments[1:]
    if head.endswith('[*]'):
        array = _lookup(node, head[:-3])
        if not isinstance(array, list):
            return [_ABSENT]
        return [leaf for member in array for leaf in _walk(member, rest)]
    value = _lookup(node, head)
    if value is _ABSENT:
        return [_ABSENT]
    return _walk(value, rest)


def _as_text(value):
    """A boolean as the string of its value ('true', 'false'); anything else as it is."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return value


def _same(a, b):
    """Microsoft Learn, "Azure Policy definition structure: policy rule": strings compare case-insensitively
    (Conditions), and a boolean equals the string of its value (Value examples: "[less(length(field('tags')), 3)]"
    "equals": "true"; Microsoft's built-in EnableRecoveryServiceVaultDiagnosticSetting_DINE compares the boolean
    logs[*].enabled with "True"). Two booleans compare as booleans, numbers as numbers."""
    if a is _ABSENT or b is _ABSENT:
        return False
    if isinstance(a, bool) and isinstance(b, bool):
        return a is b
    if isinstance(a, bool) or isinstance(b, bool):
        a, b = _as_text(a), _as_text(b)
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    return a == b


# The operators the empty reading changes: exists, and those that compare a value with "".
EMPTY_OPERATORS = ('exists', 'equals', 'notequals', 'in', 'notin')


def _is_empty(value):
    return value is _ABSENT or (not isinstance(value, bool) and value in ('', [], {}))


def _test(op, value, target, empty=False):
    op = op.lower()
    if empty and op in EMPTY_OPERATORS and _is_empty(value):
        if op == 'exists':
            return str(target).lower() != 'true'
        value = ''
    if op == 'equals':
        return _same(value, target)
    if op == 'notequals':
        return not _same(value, target)
    if op == 'in':
        return any(_same(value, t) for t in target)
    if op == 'notin':
        return not any(_same(value, t) for t in target)
    if op == 'exists':
        return (value is not _ABSENT) == (str(target).lower() == 'true')
    if op == 'contains':
        return isinstance(value, str) and target.lower() in value.lower()
    if op == 'less':
        return value < target
    raise AssertionError('the oracle does not know %s' % op)


def _param(text, params):
    found = re.fullmatch(r"\[parameters\('([^']+)'\)\]", text) if isinstance(text, str) else None
    return params[found.group(1)] if found else text


class Oracle:
    """One reading of a rule: ``empty`` takes every empty value as absent and equal to "" (module docstring)."""

    def __init__(self, body, params, member=None, empty=False):
        self.body, self.params, self.member, self.empty = body, params, member, empty

    def path(self, field):
        if field.lower() == 'type':
            return None
        return ALIASES[field.lower()]

    def field(self, field):
        path = self.path(field)
        if path is None:
            return self.body.get('type', _ABSENT)
        if self.member is not None and path.startswith(self.member[0] + '.'):
            leaves = _walk(self.member[1], path[len(self.member[0]) + 1:].split('.'))
            return leaves[0]
        leaves = _walk(self.body, path.split('.'))
        assert len(leaves) == 1, 'the definitions use [*] only in count'
        return leaves[0]

    def holds(self, cond):
        keys = dict((k.lower(), k) for k in cond)
        if 'allof' in keys:
            return all(self.holds(c) for c in cond[keys['allof']])
        if 'anyof' in keys:
            return any(self.holds(c) for c in cond[keys['anyof']])
        if 'not' in keys:
            return not self.holds(cond[keys['not']])
        ops = [k for k in cond if k.lower() not in ('field', 'value', 'count')]
        assert len(ops) == 1, cond
        target = _param(cond[ops[0]], self.params)
        if 'count' in keys:
            count = cond[keys['count']]
            array_path = ALIASES[count['field'].lower()]
            assert array_path.endswith('[*]')
            array = _lookup_path(self.body, array_path[:-3])
            members = array if isinstance(array, list) else []
            if 'where' not in count:
                return _test(ops[0], len(members), target)
            hits = sum(1 for m in members if Oracle(self.body, self.params, (array_path, m), self.empty).holds(count['where']))
            return _test(ops[0], hits, target)
        if 'field' in keys:
            return _test(ops[0], self.field(cond[keys['field']]), target, self.empty)
        return _test(ops[0], _param(cond[keys['value']], self.params), target)


def _lookup_path(body, path):
    node = body
    for key in path.split('.'):
        node = _lookup(node, key)
        if node is _ABSENT:
            return _ABSENT
    return node


def parameters(definition, given):
    """The definition's parameters: ``given`` over the defaults."""
    out = dict((k, spec['defaultValue']) for k, spec in definition['properties']['parameters'].items() if 'defaultValue' in spec)
    out.update(given or {})
    return out


def verdict(definition, body, given=None):
    """None when the effect is Disabled, else whether the vault is non-compliant under either reading of empty values."""
    rule = definition['properties']['policyRule']
    params = parameters(definition, given)
    if str(_param(rule['then']['effect'], params)).lower() == 'disabled':
        return None
    return Oracle(body, params).holds(rule['if']) or Oracle(body, params, empty=True).holds(rule['if'])


def random_parameters(definition, rng):
    """Non-default parameters: each one a random allowed value (the effect Disabled now and then)."""
    out = {}
    for key, spec in definition['properties']['parameters'].items():
        allowed = spec.get('allowedValues')
        if allowed:
            out[key] = rng.choice(allowed)
    return out


# ------------------------------------------------------------------------------------------- random vault bodies

def _case(rng, text):
    """Azure's spelling, or now and then another casing (Azure Policy compares strings case-insensitively)."""
    return rng.choice([text, text, text, text.lower(), text.upper()])


def _maybe(rng, value, absent=0.25):
    return None if rng.random() < absent else value


def _empty_some(kind, props, rng):
    """Now and then a property the definitions read present but empty: "" for a string, {} for an object."""
    security = props['securitySettings']
    if kind == 'recovery_services':
        spots = [(security, 'multiUserAuthorization', ''), (props, 'publicNetworkAccess', ''), (security, 'immutabilitySettings', {}),
                 (props, 'encryption', {}), (props, 'restoreSettings', {'crossSubscriptionRestoreSettings': {'crossSubscriptionRestoreState': ''}})]
        if isinstance(props.get('encryption'), dict) and rng.random() < 0.5:
            spots.append((props['encryption'], 'keyVaultProperties', {'keyUri': ''}))
    else:
        spots = [(security, 'immutabilitySettings', {'state': ''}), (security, 'encryptionSettings', {}),
                 (props, 'featureSettings', {'crossSubscriptionRestoreSettings': {'state': ''}})]
    for node, key, value in spots:
        if rng.random() < 0.3:
            node[key] = value
    return props


def random_properties(kind, rng, empties=False):
    """Random security settings of a vault of ``kind`` (what the emulator stores as a fleet ``body``'s properties);
    ``empties``: some of them present but empty ("", {}), which the two readings of empty values judge apart."""
    security = {}
    immutability = rng.choice([None, 'Disabled', 'Unlocked', 'Locked'])
    if immutability:
        security['immutabilitySettings'] = {'state': _case(rng, immutability)}
    props = {'provisioningState': 'Succeeded', 'securitySettings': security}
    cross_sub = _maybe(rng, rng.choice(['Enabled', 'Disabled', 'PermanentlyDisabled']))
    if kind == 'recovery_services':
        security['softDeleteSettings'] = {'softDeleteState': rng.choice(['Enabled', 'Disabled', 'AlwaysON']),
                                          'softDeleteRetentionPeriodInDays': 14, 'enhancedSecurityState': 'Enabled'}
        mua = _maybe(rng, rng.choice(['Enabled', 'Disabled', 'Invalid']))
        if mua:
            security['multiUserAuthorization'] = _case(rng, mua)
        props['redundancySettings'] = {'standardTierStorageRedundancy': _case(rng, rng.choice(
            ['GeoRedundant', 'LocallyRedundant', 'ZoneRedundant', 'Invalid'])), 'crossRegionRestore': 'Disabled'}
        if rng.random() < 0.4:
            props['encryption'] = {'kekIdentity': {'useSystemAssignedIdentity': True},
                                   'infrastructureEncryption': _case(rng, rng.choice(['Enabled', 'Disabled']))}
            if rng.random() < 0.7:
                props['encryption']['keyVaultProperties'] = {'keyUri': 'https://kv-backup.vault.azure.net/keys/cmk/0123abcd'}
        if cross_sub:
            props['restoreSettings'] = {'crossSubscriptionRestoreSettings': {'crossSubscriptionRestoreState': _case(rng, cross_sub)}}
        access = _maybe(rng, rng.choice(['Enabled', 'Disabled']))
        if access:
            props['publicNetworkAccess'] = _case(rng, access)
        connections = []
        for index in range(rng.choice([0, 0, 1, 1, 2, 3])):
            service = rng.choice(['backup', 'backup', 'siterecovery'])
            connections.append({
                'id': '/subscriptions/x/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v/privateEndpointConnections/'
                      'pe%d.%s.%s' % (index, rng.choice(['a1b2', 'c3d4']), service),
                'properties': {'provisioningState': _case(rng, rng.choice(['Succeeded', 'Succeeded', 'Pending', 'Failed'])),
                               'privateEndpoint': {'id': '/subscriptions/x/privateEndpoints/pe%d' % index},
                               'privateLinkServiceConnectionState': {
                                   'status': _case(rng, rng.choice(['Approved', 'Approved', 'Pending', 'Rejected'])),
                                   'description': 'test', 'actionsRequired': 'None'}},
            })
        if connections or rng.random() < 0.3:
            props['privateEndpointConnections'] = connections
    else:
        security['softDeleteSettings'] = {'state': rng.choice(['On', 'Off', 'AlwaysOn']), 'retentionDurationInDays': 14.0}
        if rng.random() < 0.5:
            security['encryptionSettings'] = {'state': _case(rng, rng.choice(['Enabled', 'Disabled', 'Inconsistent'])),
                                              'infrastructureEncryption': _case(rng, rng.choice(['Enabled', 'Disabled']))}
        guard = rng.choice([None, True, False])
        if guard is not None:
            props['isVaultProtectedByResourceGuard'] = guard
        if cross_sub:
            props['featureSettings'] = {'crossSubscriptionRestoreSettings': {'state': _case(rng, cross_sub)}}
        props['storageSettings'] = [{'datastoreType': 'VaultStore', 'type': 'LocallyRedundant'}]
    return _empty_some(kind, props, rng) if empties else props


def random_body(kind, name, vault_id, rng, location='westeurope', empties=False):
    return {'id': vault_id, 'name': name, 'type': KIND_TYPE[kind], 'location': location, 'tags': {},
            'properties': random_properties(kind, rng, empties)}


def random_rng(seed):
    return random.Random(seed)
