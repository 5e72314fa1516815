# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""azure.azcollection / Azure CLI conventions, end to end through ansible-playbook, the real SDKs and the emulator:
ANSIBLE_AZURE_AUTH_SOURCE, AZURE_CONFIG_DIR, a credential file profile's cloud_environment, and auth_source=cli
without the Azure CLI."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.integration.fleets import states_fleet

MOD = 'vaultlock.azure.vault_immutability_info'
# Everything that would otherwise give the module its credentials or its cloud from the environment.
NO_AZURE_ENV = {name: '' for name in ('AZURE_CLIENT_ID', 'AZURE_SECRET', 'AZURE_CLIENT_SECRET', 'AZURE_TENANT', 'AZURE_TENANT_ID',
                                      'AZURE_CLOUD_ENVIRONMENT', 'AZURE_AUTHORITY_HOST')}


@pytest.fixture(autouse=True)
def fleet(emulator):
    emulator.load_fleet(states_fleet())


def path_without_az(tmp_path):
    """The PATH the runner uses, minus any directory that holds an 'az' command."""
    dirs = [d for d in os.environ.get('PATH', '').split(os.pathsep) if d and not os.path.exists(os.path.join(d, 'az'))]
    assert shutil.which('az', path=os.pathsep.join(dirs)) is None
    return os.pathsep.join(dirs)


def test_cli_without_the_azure_cli_says_what_is_missing(runner, emulator, tmp_path):
    emulator.clear_journal()
    run = runner.play([{'name': 'cli', MOD: {'auth_source': 'cli'}}], extra_env={'PATH': path_without_az(tmp_path)})
    result = run['r0']
    assert result['failed'], run.output
    assert "no 'az' command" in result['msg'] and 'az login' in result['msg'], result['msg']
    assert 'HTTP 401' not in result['msg'] and 'CredentialUnavailable' not in result['msg']
    assert emulator.journal() == [] and emulator.token_journal() == []


def test_a_client_id_without_its_secret_says_it_was_taken_as_a_managed_identity(runner, emulator, tmp_path):
    """A service principal's AZURE_CLIENT_ID and AZURE_TENANT with the secret left out (a pipeline variable that was not
    set): auto asks the Azure CLI, then the managed identity of that client id, and failed naming neither the client id
    nor the missing secret."""
    emulator.clear_journal()
    no_secret = {'AZURE_SECRET': '', 'AZURE_CLIENT_SECRET': '', 'PATH': path_without_az(tmp_path)}
    run = runner.play([{'name': 'no secret', MOD: {}}], extra_env=no_secret)
    result = run['r0']
    assert result['failed'], run.output
    assert 'No credential could be obtained' in result['msg'], result['msg']
    assert ('client_id is given (the task option or AZURE_CLIENT_ID) without a secret or certificate_path, so it was taken as the '
            'client id of a user-assigned managed identity: for a service principal give its secret (AZURE_SECRET or '
            'AZURE_CLIENT_SECRET) or certificate_path as well.') in result['msg'], result['msg']
    assert emulator.journal() == []
    # Without a client id there is nothing to say about one.
    run = runner.play([{'name': 'nothing', MOD: {}}], extra_env=dict(NO_AZURE_ENV, PATH=path_without_az(tmp_path)))
    assert run['r0']['failed'] and 'user-assigned managed identity' not in run['r0']['msg'], run['r0']['msg']


def test_ansible_azure_auth_source_is_the_default(runner, tmp_path):
    # The emulator's service principal is in the environment, so auto would work: the variable must win.
    run = runner.play([{'name': 'default source', MOD: {}}, {'name': 'option beats variable', MOD: {'auth_source': 'env'}}],
                      extra_env={'ANSIBLE_AZURE_AUTH_SOURCE': 'cli', 'PATH': path_without_az(tmp_path)})
    assert run['r0']['failed'] and "auth_source=cli" in run['r0']['msg'], run['r0']
    assert not run['r1'].get('failed') and len(run['r1']['vaults']) == 7, run['r1']


def test_credential_file_in_azure_config_dir_with_its_cloud(runner, emulator, tmp_path):
    config_dir = tmp_path / 'azure-config'
    config_dir.mkdir()
    ep = emulator.endpoint
    (config_dir / 'credentials').write_text(
        '[default]\nclient_id=nobody\nsecret=wrong\ntenant=%s\n\n'
        '[emulator]\nsubscription_id=%s\nclient_id=%s\nsecret=%s\ntenant=%s\ncloud_environment=%s\ncert_validation_mode=validate\n'
        % (ep['tenant_id'], ep['subscription_ids'][0], ep['client_id'], ep['client_secret'], ep['tenant_id'], ep['arm_url']))
    env = dict(NO_AZURE_ENV, AZURE_CONFIG_DIR=str(config_dir), AZURE_SUBSCRIPTION_ID='')
    run = runner.play([{'name': 'profile', MOD: {'profile': 'emulator'}}], extra_env=env)
    assert not run['r0'].get('failed'), run['r0']
    assert len(run['r0']['vaults']) == 7
    # Without AZURE_CONFIG_DIR the same task finds no credential file (HOME has none) and no other credential.
    run = runner.play([{'name': 'no config dir', MOD: {'profile': 'emulator', 'auth_source': 'credential_file'}}],
                      extra_env=dict(env, AZURE_CONFIG_DIR='', HOME=str(tmp_path)))
    assert run['r0']['failed'] and 'does not exist' in run['r0']['msg'], run['r0']
    # A profile line without '=' holding the secret: configparser quoted it, and the message went into the play's output
    # (and, through harden_plan, into every report file). Only its line number is named now, before any request.
    broken = tmp_path / 'broken-config'
    broken.mkdir()
    (broken / 'credentials').write_text('[emulator]\nclient_id=%s\nsecret %s\ntenant=%s\n' % (ep['client_id'], ep['client_secret'], ep['tenant_id']))
    emulator.clear_journal()
    tokens_before = len(emulator.token_journal())
    run = runner.play([{'name': 'broken file', MOD: {'profile': 'emulator', 'auth_source': 'credential_file'}}],
                      extra_env=dict(env, AZURE_CONFIG_DIR=str(broken)))
    assert run['r0']['failed'] and 'cannot be parsed (line 3)' in run['r0']['msg'], run['r0']
    assert ep['client_secret'] not in run.output
    assert emulator.journal() == [] and len(emulator.token_journal()) == tokens_before
