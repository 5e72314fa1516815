# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARM emulator: identity, metadata, vault CRUD and LROs through the real SDKs, controls."""
from __future__ import annotations

import re
import time

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError
from azure.identity import ClientSecretCredential

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-vaultlock"


def rs_id(name, rg=RG, sub=SUB):
    return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s" % (sub, rg, name)


def dp_id(name, rg=RG, sub=SUB):
    return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.DataProtection/backupVaults/%s" % (sub, rg, name)


def test_endpoint_file_keys(emulator):
    ep = emulator.endpoint
    for key in ("arm_url", "tenant_id", "client_id", "client_secret", "readonly_client_id", "readonly_client_secret",
                "subscription_ids", "resource_groups", "ca_bundle", "control_url", "audience", "authority_host", "env"):
        assert key in ep
    for key in ("AZURE_CLIENT_ID", "AZURE_SECRET", "AZURE_CLIENT_SECRET", "AZURE_TENANT", "AZURE_TENANT_ID",
                "AZURE_SUBSCRIPTION_ID", "AZURE_CLOUD_ENVIRONMENT", "AZURE_AUTHORITY_HOST", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
        assert ep["env"][key]
    assert ep["subscription_ids"] == [SUB]
    assert ep["resource_groups"] == {SUB: [RG]}
    assert ep["env"]["AZURE_CLOUD_ENVIRONMENT"] == ep["arm_url"]


def test_metadata_endpoints(emulator):
    url = emulator.arm_url + "metadata/endpoints"
    # 2022-09-01: this cloud's object (what az CLI 2.91 `az cloud register --endpoint-resource-manager` reads)
    new = requests.get(url, params={"api-version": "2022-09-01"}, verify=emulator.ca_bundle, timeout=10).json()
    assert isinstance(new, dict) and new["name"] == "AzureEmulator"
    assert new["resourceManager"] == emulator.arm_url
    assert new["authentication"]["audiences"] == [emulator.endpoint["audience"]]
    assert new["authentication"]["loginEndpoint"] == emulator.endpoint["authority_host"]
    assert "keyVaultDns" in new["suffixes"]
    # 2019-05-01: the list of clouds (ARM_CLOUD_METADATA_URL)
    listed = requests.get(url, params={"api-version": "2019-05-01"}, verify=emulator.ca_bundle, timeout=10).json()
    assert isinstance(listed, list) and listed == [new]
    old = requests.get(url, params={"api-version": "2015-01-01"}, verify=emulator.ca_bundle, timeout=10).json()
    assert set(old) >= {"galleryEndpoint", "graphEndpoint", "portalEndpoint", "authentication"}
    assert old["authentication"]["audiences"] == [emulator.endpoint["audience"]]


def test_token_and_token_journal(emulator):
    token = emulator.credential().get_token(emulator.endpoint["audience"] + ".default")
    assert token.token and token.expires_on > time.time()
    entries = emulator.token_journal()
    assert any(e["path"].endswith("/oauth2/v2.0/token") and e["status"] == 200 for e in entries)
    assert emulator.journal() == []  # token requests are not ARM calls


def test_wrong_secret_is_401_invalid_client(emulator):
    ep = emulator.endpoint
    cred = ClientSecretCredential(ep["tenant_id"], ep["client_id"], "wrong", authority=ep["authority_host"],
                                  disable_instance_discovery=True, connection_verify=emulator.ca_bundle)
    with pytest.raises(ClientAuthenticationError) as err:
        cred.get_token(ep["audience"] + ".default")
    assert "AADSTS7000215" in str(err.value)
    resp = requests.post(ep["authority_host"] + ep["tenant_id"] + "/oauth2/v2.0/token", verify=emulator.ca_bundle, timeout=10,
                         data={"grant_type": "client_credentials", "client_id": ep["client_id"], "client_secret": "x",
                               "scope": ep["audience"] + ".default"})
    assert resp.status_code == 401 and resp.json()["error"] == "invalid_client"


def test_unknown_tenant_is_400(emulator):
    ep = emulator.endpoint
    resp = requests.post(ep["authority_host"] + "00000000-dead-beef-0000-000000000000/oauth2/v2.0/token", timeout=10,
                         verify=emulator.ca_bundle, data={"grant_type": "client_credentials", "client_id": ep["client_id"],
                                                          "client_secret": ep["client_secret"], "scope": ep["audience"] + ".default"})
    assert resp.status_code == 400 and "AADSTS90002" in resp.json()["error_description"]


def test_workload_identity_assertion(emulator):
    from azure.identity import ClientAssertionCredential  # pylint: disable=import-outside-toplevel
    from tests.emulator import tokens  # pylint: disable=import-outside-toplevel

    ep = emulator.endpoint
    assertion = tokens.encode({"sub": ep["client_id"], "iss": "https://oidc.example", "aud": "api://AzureADTokenExchange",
                               "exp": int(time.time()) + 600}, b"federated-issuer-key-of-32-bytes")
    cred = ClientAssertionCredential(ep["tenant_id"], ep["client_id"], lambda: assertion, authority=ep["authority_host"],
                                     disable_instance_discovery=True, connection_verify=emulator.ca_bundle)
    client = emulator.rs_client(credential=cred)
    assert list(client.vaults.list_by_subscription_id()) == []
    bad = tokens.encode({"sub": "someone-else"}, b"k" * 32)
    cred = ClientAssertionCredential(ep["tenant_id"], ep["client_id"], lambda: bad, authority=ep["authority_host"],
                                     disable_instance_discovery=True, connection_verify=emulator.ca_bundle)
    with pytest.raises(ClientAuthenticationError):
        cred.get_token(ep["audience"] + ".default")


def _arm_get(emulator, path, token=None):
    headers = {"Authorization": "Bearer " + token} if token is not None else {}
    return requests.get(emulator.arm_url + path.lstrip("/"), params={"api-version": "2026-11-01"}, headers=headers,
                        verify=emulator.ca_bundle, timeout=10)


def test_missing_token_is_401_authentication_failed(emulator):
    resp = _arm_get(emulator, "/subscriptions/%s/providers/Microsoft.RecoveryServices/vaults" % SUB)
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "AuthenticationFailed"
    assert "WWW-Authenticate" in resp.headers
    assert emulator.journal()[-1]["status"] == 401


@pytest.mark.parametrize("kind", ["forged", "expired", "audience"])
def test_bad_tokens_are_401_with_arms_codes(emulator, kind):
    if kind == "forged":
        good = emulator.mint_token()
        head, body, _sig = good.split(".")
        token = head + "." + body + ".AAAA"
    elif kind == "expired":
        token = emulator.mint_token(lifetime_s=-10)
    else:
        token = emulator.mint_token(audience="https://management.azure.com/")
    resp = _arm_get(emulator, "/subscriptions/%s/providers/Microsoft.RecoveryServices/vaults" % SUB, token)
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer ")
    if kind == "expired":
        # ARM's answer as the live service sent it (hashicorp/terraform-provider-azurerm#20867): its own code, ARM's time
        # format ('3/19/2023 8:55:46 AM') and a refusal at the gateway.
        assert resp.json()["error"]["code"] == "ExpiredAuthenticationToken"
        assert re.fullmatch(r"The access token expiry UTC time '\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d\d:\d\d [AP]M' is earlier than "
                            r"current UTC time '\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d\d:\d\d [AP]M'\.", resp.json()["error"]["message"])
        assert resp.headers["x-ms-failure-cause"] == "gateway"
    else:
        assert resp.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_sdk_sees_401_for_expired_token(emulator):
    class Expired:  # pylint: disable=too-few-public-methods
        def get_token(self, *_scopes, **_kw):
            from azure.core.credentials import AccessToken  # pylint: disable=import-outside-toplevel

            return AccessToken(emulator.mint_token(lifetime_s=-5), int(time.time()) + 3600)

    client = emulator.rs_client(credential=Expired())
    with pytest.raises(ClientAuthenticationError) as err:
        client.vaults.get(RG, "nope")
    assert err.value.error.code == "ExpiredAuthenticationToken"


def test_reader_gets_403_on_writes_and_reads_fine(emulator):
    emulator.load_fleet({"subscriptions": [{"id": SUB, "resource_groups": [{"name": RG, "location": "westeurope", "vaults": [
        {"name": "rsv1", "type": "recovery_services"}]}]}]})
    reader = emulator.credential(readonly=True)
    client = emulator.rs_client(credential=reader)
    assert client.vaults.get(RG, "rsv1").name == "rsv1"
    with pytest.raises(HttpResponseError) as err:
        client.vaults.begin_update(RG, "rsv1", {"tags": {"a": "b"}}).result()
    assert err.value.status_code == 403
    assert err.value.error.code == "AuthorizationFailed"
    msg = err.value.error.message
    assert "does not have authorization to perform action 'Microsoft.RecoveryServices/vaults/write' over scope '%s'" % rs_id("rsv1") in msg
    assert "If access was recently granted, please refresh your credentials." in msg
    writes = emulator.writes()
    assert writes[-1]["status"] == 403 and writes[-1]["client_id"] == emulator.endpoint["readonly_client_id"]
    dp = emulator.dp_client(credential=reader)
    with pytest.raises(HttpResponseError) as err:
        dp.backup_policies.delete(RG, "rsv1", "p")
    assert err.value.status_code == 403
    assert "Microsoft.DataProtection/backupVaults/backupPolicies/delete" in err.value.error.message
    assert "tags" not in emulator.resource(rs_id("rsv1"))  # the refused write added none (an untagged vault has no tags key)


def test_rs_vault_lifecycle_through_sdk(emulator):
    client = emulator.rs_client()
    start = time.time()
    vault = client.vaults.begin_create_or_update(RG, "MyVault", {"location": "West Europe", "sku": {"name": "Standard"},
                                                                 "properties": {"publicNetworkAccess": "Enabled"}}).result()
    assert vault.name == "MyVault" and vault.location == "westeurope"
    assert vault.properties.provisioning_state == "Succeeded"
    assert vault.properties.security_settings.immutability_settings is None  # never configured -> no key
    assert vault.properties.security_settings.soft_delete_settings.soft_delete_state == "Enabled"
    etag1 = vault.etag
    vault = client.vaults.begin_update(RG, "myvault", {"properties": {"securitySettings": {
        "immutabilitySettings": {"state": "Unlocked"}}}}).result()
    assert vault.properties.security_settings.immutability_settings.state == "Unlocked"
    assert vault.name == "MyVault"  # creation casing kept
    assert vault.etag != etag1
    assert vault.properties.security_settings.soft_delete_settings.soft_delete_state == "Enabled"  # merge patch
    vault = client.vaults.begin_update(RG, "MYVAULT", {"tags": {"env": "prod"}}).result()
    assert vault.tags == {"env": "prod"}
    assert vault.properties.security_settings.immutability_settings.state == "Unlocked"
    vault = client.vaults.begin_update(RG, "MyVault", {"properties": {"securitySettings": {
        "immutabilitySettings": {"state": "Locked"}}}}).result()
    assert vault.properties.security_settings.immutability_settings.state == "Locked"
    assert time.time() - start < 5
    journal = emulator.journal()
    assert any("/operationStatus/" in e["path"] for e in journal)
    assert client.vaults.get(RG, "myVAULT").id == rs_id("MyVault")
    client.vaults.begin_delete(RG, "MyVault").result()
    with pytest.raises(ResourceNotFoundError) as err:
        client.vaults.get(RG, "MyVault")
    assert err.value.error.code == "ResourceNotFound"
    assert err.value.error.message == ("The Resource 'Microsoft.RecoveryServices/vaults/MyVault' under resource group "
                                       "'rg-vaultlock' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix")
    assert emulator.resource(rs_id("MyVault")) is None


def test_lro_headers_and_status_shape(emulator):
    token = emulator.mint_token()
    url = emulator.arm_url + rs_id("v2").lstrip("/")
    hdr = {"Authorization": "Bearer " + token}
    resp = requests.put(url, params={"api-version": "2026-11-01"}, headers=hdr, json={"location": "westeurope"},
                        verify=emulator.ca_bundle, timeout=10)
    assert resp.status_code == 201
    assert resp.json()["properties"]["provisioningState"] == "Provisioning"
    assert resp.headers["Retry-After"] == "0"
    for name in ("x-ms-request-id", "x-ms-correlation-request-id", "x-ms-ratelimit-remaining-subscription-writes"):
        assert name in resp.headers
    # With Retry-After 0 the operation has finished by the first poll (lro.py: operations finish by the clock).
    status = requests.get(resp.headers["Azure-AsyncOperation"], headers=hdr, verify=emulator.ca_bundle, timeout=10).json()
    assert status["status"] == "Succeeded" and status["id"].startswith(rs_id("v2") + "/operationStatus/")
    # While an operation runs (Retry-After not yet passed on the frozen clock) its status has the recorded shape.
    emulator.settings(lro_retry_after=5)
    emulator.clock(freeze=True)
    resp = requests.patch(url, params={"api-version": "2026-11-01"}, headers=hdr, json={"tags": {"a": "1"}},
                          verify=emulator.ca_bundle, timeout=10)
    assert resp.status_code == 202 and "/operationResults/" in resp.headers["Location"]
    running = requests.get(resp.headers["Azure-AsyncOperation"], headers=hdr, verify=emulator.ca_bundle, timeout=10)
    assert running.json()["status"] == "InProgress" and running.headers["Retry-After"] == "5"
    assert set(running.json()) == {"id", "name", "status"}   # recorded (azure-cli test_vault_soft_delete_basic)
    assert running.headers["Azure-AsyncOperation"].split("?")[0] == resp.headers["Azure-AsyncOperation"].split("?")[0]
    # A client that polls only the Location gets 202 while the operation runs, then the result.
    result = requests.get(resp.headers["Location"], headers=hdr, verify=emulator.ca_bundle, timeout=10)
    assert result.status_code == 202 and result.headers["Location"].split("?")[0] == resp.headers["Location"].split("?")[0]
    emulator.clock(advance_s=5)
    result = requests.get(resp.headers["Location"], headers=hdr, verify=emulator.ca_bundle, timeout=10)
    assert result.status_code == 200 and result.json()["tags"] == {"a": "1"}
    get = requests.get(url, params={"api-version": "2026-11-01"}, headers=hdr, verify=emulator.ca_bundle, timeout=10)
    assert "x-ms-ratelimit-remaining-subscription-reads" in get.headers


def test_dp_vault_lifecycle_through_sdk(emulator):
    client = emulator.dp_client()
    body = {"location": "westeurope", "identity": {"type": "SystemAssigned"},
            "properties": {"storageSettings": [{"datastoreType": "VaultStore", "type": "LocallyRedundant"}],
                           "securitySettings": {"immutabilitySettings": {"state": "Disabled"}}}}
    vault = client.backup_vaults.begin_create_or_update(RG, "bv1", body).result()
    sds = vault.properties.security_settings.soft_delete_settings
    assert sds.state == "On" and sds.retention_duration_in_days == 14.0
    assert vault.identity.principal_id
    vault = client.backup_vaults.begin_update(RG, "BV1", {"properties": {"securitySettings": {
        "immutabilitySettings": {"state": "Unlocked"}}}}).result()
    assert vault.properties.security_settings.immutability_settings.state == "Unlocked"
    assert vault.properties.security_settings.soft_delete_settings.state == "On"
    raw = emulator.resource(dp_id("bv1"))
    assert raw["properties"]["securitySettings"]["softDeleteSettings"]["retentionDurationInDays"] == 14.0
    assert isinstance(raw["properties"]["securitySettings"]["softDeleteSettings"]["retentionDurationInDays"], float)
    names = [v.name for v in client.backup_vaults.get_in_subscription()]
    assert names == ["bv1"]
    assert [v.name for v in client.backup_vaults.get_in_resource_group(RG)] == ["bv1"]
    client.backup_vaults.begin_delete(RG, "bv1").result()
    assert emulator.resource(dp_id("bv1")) is None


def test_unknown_api_version(emulator):
    token = emulator.mint_token()
    resp = requests.get(emulator.arm_url + rs_id("x").lstrip("/"), params={"api-version": "2099-01-01"},
                        headers={"Authorization": "Bearer " + token}, verify=emulator.ca_bundle, timeout=10)
    assert resp.status_code == 400
    err = resp.json()["error"]
    assert err["code"] == "NoRegisteredProviderFound"
    assert err["message"].startswith("No registered resource provider found for location 'westeurope' and API version "
                                     "'2099-01-01' for type 'vaults'. The supported api-versions are '2016-06-01, ")


def test_subscriptions_and_resource_groups(emulator):
    token = emulator.mint_token()
    hdr = {"Authorization": "Bearer " + token}
    subs = requests.get(emulator.arm_url + "subscriptions", params={"api-version": "2022-12-01"}, headers=hdr,
                        verify=emulator.ca_bundle, timeout=10).json()
    assert [s["subscriptionId"] for s in subs["value"]] == [SUB]
    resp = requests.get(emulator.arm_url + "subscriptions/%s/resourcegroups/nope" % SUB, params={"api-version": "2022-09-01"},
                        headers=hdr, verify=emulator.ca_bundle, timeout=10)
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "ResourceGroupNotFound"
    resp = requests.get(emulator.arm_url + "subscriptions/22222222-2222-2222-2222-222222222222/resourcegroups",
                        params={"api-version": "2022-09-01"}, headers=hdr, verify=emulator.ca_bundle, timeout=10)
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "SubscriptionNotFound"
    resp = requests.put(emulator.arm_url + "subscriptions/%s/resourcegroups/rg-new" % SUB, params={"api-version": "2022-09-01"},
                        headers=hdr, json={"location": "northeurope"}, verify=emulator.ca_bundle, timeout=10)
    assert resp.status_code == 201
    rgs = requests.get(emulator.arm_url + "subscriptions/%s/resourcegroups" % SUB, params={"api-version": "2022-09-01"},
                       headers=hdr, verify=emulator.ca_bundle, timeout=10).json()
    assert sorted(r["name"] for r in rgs["value"]) == ["rg-new", RG]
    client = emulator.rs_client()
    with pytest.raises(ResourceNotFoundError) as err:
        client.vaults.get("rg-missing", "v")
    assert err.value.error.code == "ResourceGroupNotFound"


def test_journal_and_reset(emulator):
    client = emulator.rs_client()
    client.vaults.begin_create_or_update(RG, "jv", {"location": "westeurope"}).result()
    entries = emulator.journal()
    assert {"method", "path", "query", "status", "client_id"} <= set(entries[0])
    puts = [e for e in emulator.writes() if e["method"] == "PUT"]
    assert len(puts) == 1 and puts[0]["status"] == 201 and puts[0]["query"]["api-version"] == "2026-11-01"
    assert puts[0]["client_id"] == emulator.endpoint["client_id"]
    emulator.clear_journal()
    assert emulator.journal() == []
    emulator.reset()
    assert emulator.resource(rs_id("jv")) is None


def test_resources_reads_many_stored_documents_in_one_request(emulator):
    client = emulator.rs_client()
    client.vaults.begin_create_or_update(RG, "many", {"location": "westeurope"}).result()
    emulator.clear_journal()
    ids = [rs_id("many"), rs_id("absent"), "/subscriptions/%s" % SUB]
    assert emulator.resources(ids) == {i: emulator.resource(i) for i in ids}
    assert emulator.resources(ids)[rs_id("many")]["name"] == "many" and emulator.resources(ids)[rs_id("absent")] is None
    assert emulator.resources([]) == {}
    assert emulator.journal() == []                     # a control request, not an ARM call
    with pytest.raises(RuntimeError, match="400"):
        emulator._call("POST", "resources", {"ids": "not a list"})  # pylint: disable=protected-access


def test_tokens_are_standard_jwts_checked_with_pyjwt():
    import jwt  # pylint: disable=import-outside-toplevel
    from tests.emulator import tokens  # pylint: disable=import-outside-toplevel
    key = b"0123456789abcdef0123456789abcdef"
    token = tokens.encode({"aud": "https://management.emulator.local/", "exp": 4102444800, "appid": "a"}, key)
    # Any JWT library reads it: HS256, three base64url parts.
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert jwt.decode(token, key, algorithms=["HS256"], audience="https://management.emulator.local/")["appid"] == "a"
    assert tokens.verify(token, key, "https://MANAGEMENT.emulator.local")["appid"] == "a"
    with pytest.raises(tokens.TokenError, match="invalid signature"):
        tokens.verify(token[:-2] + ("AA" if not token.endswith("AA") else "BB"), key, "https://management.emulator.local/")
    with pytest.raises(tokens.TokenError, match="invalid signature"):
        tokens.verify(tokens.encode({"exp": 4102444800}, b"x" * 32), key, "https://management.emulator.local/")
    with pytest.raises(tokens.TokenError, match="not a valid JWT"):
        tokens.decode_unverified("not.a-jwt")


def test_every_answer_reports_its_operation_types_remaining_requests_and_the_global_ones(emulator):
    """Learn (request-limits-and-throttling, "Remaining requests"): reads report -reads, PUT/PATCH/POST -writes, DELETE
    -deletes, each with its -global- count; also while throttling is off (hourly counts, assumed)."""
    token = emulator.mint_token()
    hdr = {"Authorization": "Bearer " + token}
    url = emulator.arm_url + rs_id("v-headers").lstrip("/")
    answers = {}
    for method, body in (("PUT", {"location": "westeurope"}), ("GET", None), ("PATCH", {"tags": {"a": "1"}}), ("DELETE", None)):
        answers[method] = requests.request(method, url, params={"api-version": "2026-11-01"}, headers=hdr, json=body,
                                           verify=emulator.ca_bundle, timeout=10)
        assert answers[method].status_code < 300, answers[method].text
    for method, op in (("PUT", "writes"), ("GET", "reads"), ("PATCH", "writes"), ("DELETE", "deletes")):
        got = answers[method].headers
        mine = int(got["x-ms-ratelimit-remaining-subscription-" + op])
        assert int(got["x-ms-ratelimit-remaining-subscription-global-" + op]) > mine > 0, (method, dict(got))
        others = {"reads", "writes", "deletes"} - {op}
        assert not [name for name in got if name.lower().rsplit("-", 1)[-1] in others and "ratelimit" in name.lower()], method
    assert int(answers["PATCH"].headers["x-ms-ratelimit-remaining-subscription-writes"]) == \
        int(answers["PUT"].headers["x-ms-ratelimit-remaining-subscription-writes"]) - 1
