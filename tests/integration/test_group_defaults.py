# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_defaults' group/vaultlock.azure.all is for the authentication options (doc_fragments/attributes.py LOCAL,
docs/authentication.md). A state module's option set there (allow_irreversible, immutability) reached the read-only
modules too, and ansible-core failed each with "Unsupported parameters for (vault_immutability_info) module:
allow_irreversible", naming neither module_defaults nor the group. The modules' action plugins now refuse it as the
controller actions do (_controller_action): the message names the option, says module_defaults gave it and what the
group takes; nothing is sent to Azure, in process and through async (AnsiballZ) alike. An option written in the task
itself keeps ansible-core's message, and authentication options in the group keep working."""

from __future__ import annotations

from tests.integration.fleets import RG, SUB1, vault, vault_id

INFO = 'vaultlock.azure.vault_immutability_info'
READINESS = 'vaultlock.azure.vault_lock_readiness_info'
RETENTION = 'vaultlock.azure.backup_policy_retention_info'
SOFT = 'vaultlock.azure.vault_soft_delete'


def group(**options):
    return {'group/vaultlock.azure.all': options}


def test_a_state_module_option_in_the_group_is_refused_by_the_info_modules_naming_module_defaults(runner, emulator):
    emulator.load_fleet({'subscriptions': [{'id': SUB1, 'display_name': 'group', 'resource_groups': [
        {'name': RG, 'location': 'westeurope', 'vaults': [vault('rsv-a', 'recovery_services', 'enabled')]}]}]})
    emulator.clear_journal()
    one = {'id': vault_id('rsv-a')}
    tasks = [
        {'name': 'info, consent in the group', INFO: one, 'module_defaults': group(allow_irreversible=True)},
        {'name': 'readiness, a target in the group', READINESS: one, 'module_defaults': group(immutability='locked', api_retries=2)},
        {'name': 'retention info, consent in the group', RETENTION: one, 'module_defaults': group(allow_irreversible=False)},
        {'name': 'info async', INFO: one, 'module_defaults': group(allow_irreversible=True), 'async': 60, 'poll': 1},
        {'name': 'state module, another state module option', SOFT: dict(one, soft_delete='on'),
         'module_defaults': group(immutability='enabled')},
        {'name': 'info, written in the task', INFO: dict(one, allow_irreversible=True)},
        {'name': 'info, authentication in the group', INFO: one, 'module_defaults': group(api_retries=2)},
    ]
    run = runner.play(tasks, marks=[])
    assert run.rc == 0, run.output
    assert 'Traceback' not in run.output
    refused = {'r0': (INFO, "'allow_irreversible'"), 'r1': (READINESS, "'immutability'"), 'r2': (RETENTION, "'allow_irreversible'"),
               'r3': (INFO, "'allow_irreversible'"), 'r4': (SOFT, "'immutability'")}
    for key, (module, option) in refused.items():
        result = run[key]
        assert result.get('failed') is True and result.get('changed') is False, (key, result)
        assert result['msg'].startswith('%s does not take %s, which module_defaults gave it: a group/vaultlock.azure.all default '
                                        'reaches every module of the collection' % (module, option)), (key, result['msg'])
        assert 'give the group only the authentication options (' in result['msg'] and 'api_retries' in result['msg'], key
        assert result['msg'].endswith('nothing was sent to Azure'), (key, result['msg'])
        assert run.requests(key) == [], (key, run.requests(key))
    # Written in the task itself: ansible-core's own message, which names the option as the user wrote it.
    assert run['r5'].get('failed') is True and 'Unsupported parameters' in run['r5']['msg'], run['r5']
    assert 'module_defaults gave it' not in run['r5']['msg']
    # Authentication options in the group: read as before.
    assert not run['r6'].get('failed'), run['r6']
    assert [entry['name'] for entry in run['r6']['vaults']] == ['rsv-a'], run['r6']
