# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure Policy verdicts, third pass: where the collection's verdict could differ from Azure's.

- Vaults configured alike are judged once (the memo of ``_policy.evaluate``): values Python calls equal but Azure Policy
  does not (``true`` and ``1``, ``false`` and ``0``) are two configurations, each with its own verdict.
- A vault whose body the collection's hardening rules cannot read (a state they have never seen, a day count that is not
  a whole number) is still a resource Azure Policy judges: its verdicts are the definitions' on its body, not left out.
- Azure Policy refuses an assignment whose parameter value is an allowed value in another letter case
  (``PolicyParameterValueNotAllowed``), so such a value has no verdict: the role variable is refused before any request.
- ``match``'s ``#`` is a decimal digit; ``like`` takes one ``*`` (Learn, "Conditions").

Every expected verdict comes from the tests' own evaluator (tests/unit/policy_oracle.py) on the vault's body, or from
the Microsoft source named beside it.
"""

from __future__ import annotations

import copy

import pytest

from ansible_collections.vaultlock.azure.plugins.module_utils import _policy
from ansible_collections.vaultlock.azure.plugins.module_utils._vaults import vault_record

from tests.fixtures import load_real
from tests.unit import policy_oracle as oracle

SUB = '11111111-1111-1111-1111-111111111111'
RS, BV = 'recovery_services', 'backup'
BV_MUA = 'c58e083e-7982-4e24-afdc-be14d312389e'
PROPERTY_DEFINITIONS = dict((d['name'], d) for _f, d in oracle.load_definitions())


def vid(name, kind):
    provider = 'Microsoft.RecoveryServices/vaults' if kind == RS else 'Microsoft.DataProtection/backupVaults'
    return '/subscriptions/%s/resourceGroups/rg-a/providers/%s/%s' % (SUB, provider, name)


def body(kind, name, **properties):
    """A real body (tests/fixtures/azure-real: azure-powershell's Recovery Services vault with Unlocked immutability,
    azure-cli-extensions' Backup vault On/Disabled) under a new name, its properties changed as given."""
    base = copy.deepcopy(load_real('ps-rs-immutability/get-unlocked.json' if kind == RS else 'cliext-dp-vault-update/get-vault-initial.json'))
    base.update(id=vid(name, kind), name=name)
    base['properties'].update(properties)
    return base


def verdicts(records, given):
    """{definition name: (evaluated, sorted non-compliant ids)} of the collection."""
    section = _policy.evaluate(records, _policy.check_assignments(given))
    return dict((row['name'], (row['evaluated'], row['non_compliant'], row['vaults'])) for row in section['definitions'])


def expected(bodies, given):
    """The same, by the tests' evaluator on the bodies; ``vaults`` counts the bodies of the definition's kind."""
    out = {}
    for name, params in given.items():
        definition = PROPERTY_DEFINITIONS[name]
        found = [(b['id'], oracle.verdict(definition, b, params)) for b in bodies]
        if any(v is None for _i, v in found):
            out[name] = (False, [], 0)
            continue
        kind = definition['properties']['policyRule']['if']['allOf'][0]['equals'].lower()
        mine = [(i, v) for (i, v), b in zip(found, bodies) if b['type'].lower() == kind]
        out[name] = (True, sorted((i for i, v in mine if v), key=str.lower), len(mine))
    return out


# --------------------------------------------------------------------------- the memo: Python's equal is not Azure's

@pytest.mark.parametrize('first, second', [(True, 1), (True, 1.0)])
def test_values_python_calls_equal_are_judged_each_on_its_own(first, second):
    """``isVaultProtectedByResourceGuard`` true and 1 are one dictionary key in Python (True == 1, same hash): the second
    vault was given the first one's verdict. Azure Policy compares a boolean with a boolean (Learn, "Conditions"); the
    tests' evaluator says 1 is not true, so the MUA definition flags the vault with 1 and passes the one with true, in
    either order."""
    bodies = [body(BV, 'bv-first', isVaultProtectedByResourceGuard=first), body(BV, 'bv-second', isVaultProtectedByResourceGuard=second)]
    records = [vault_record(b, BV) for b in bodies]
    given = {BV_MUA: {}}
    assert verdicts(records, given) == expected(bodies, given)
    assert verdicts(list(reversed(records)), given) == expected(bodies, given)
