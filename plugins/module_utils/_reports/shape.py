# -*- coding: utf-8 -*-
# Copyright (c) vaultlock.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module is for internal use by the vaultlock.azure collection only.
# Its API may change without notice.
"""The shape of a drift.json document, checked before a report filter renders it (pure, no I/O).

A drift.json read back and edited or cut by hand failed inside a renderer with Python's words; ``first_problem(document)``
names instead the first place that is not as the schema says (``vaults[3].findings[0].fixable: expected a boolean, got
'yes'``). ``SCHEMA`` is docs/drift-report-schema.json less what a renderer does not depend on: ``structural()`` keeps the
keywords that say which keys there are and what each holds (type, enum, const, required, properties, items, $ref,
$defs, oneOf, allOf, and additionalProperties where it is a schema), and leaves out the descriptions, patterns, formats,
bounds, minItems and ``additionalProperties: false`` (a key the collection does not write is never read, so a reader's
own note in the document is no reason to refuse it). tests/unit/plugins/module_utils/test_report_shape.py fails when
SCHEMA is not structural() of the schema file, and prints the SCHEMA to paste here. jsonschema is not needed at run time.

``oneOf`` is checked as "one of them holds": every oneOf of the schema is null or a value of another type, and the
keywords left out are what would let two branches hold at once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from ansible_collections.vaultlock.azure.plugins.module_utils._errors import shown

# The keywords structural() keeps.
KEPT = ('type', 'enum', 'const', 'required', 'properties', 'items', '$ref', '$defs', 'oneOf', 'allOf', 'additionalProperties')


def structural(schema):
    """The part of a JSON Schema (a dict) that SCHEMA holds: KEPT keywords only, additionalProperties only as a schema."""
    out = {}
    for key, value in schema.items():
        if key not in KEPT:
            continue
        if key in ('properties', '$defs'):
            out[key] = {name: structural(sub) for name, sub in value.items()}
        elif key in ('oneOf', 'allOf'):
            out[key] = [structural(sub) for sub in value]
        elif key == 'items':
            out[key] = structural(value)
        elif key == 'additionalProperties':
            if isinstance(value, Mapping):
                out[key] = structural(value)
        else:
            out[key] = value
    return out


# structural() of docs/drift-report-schema.json (schema_version 2.3).
SCHEMA = {
    'type': 'object',
    'required': ['schema_version', 'generated_at', 'check_mode', 'baseline', 'summary', 'posture', 'vaults', 'changed', 'errors'],
    'properties': {
        'schema_version': {'const': '2.3'},
        'generated_at': {'type': 'string'},
        'check_mode': {'type': 'boolean'},
        'baseline': {'oneOf': [{'type': 'null'}, {'$ref': '#/$defs/baseline'}]},
        'summary': {'$ref': '#/$defs/summary'},
        'posture': {'$ref': '#/$defs/posture'},
        'vaults': {'type': 'array', 'items': {'$ref': '#/$defs/vault'}},
        'changed': {'type': 'array', 'items': {'$ref': '#/$defs/changed_vault'}},
        'errors': {'type': 'array', 'items': {'$ref': '#/$defs/error'}},
        'warnings': {'type': 'array', 'items': {'type': 'string'}},
        'tiers': {'type': 'array', 'items': {'$ref': '#/$defs/baseline_tier'}},
        'lock_readiness': {'type': 'array', 'items': {'$ref': '#/$defs/lock_readiness'}},
        'discovery': {'$ref': '#/$defs/discovery'},
        'azure_policy': {'$ref': '#/$defs/azure_policy'},
        'scope_changes': {'$ref': '#/$defs/scope_changes'},
    },
    '$defs': {
        'scope_changes': {
            'type': 'object',
            'required': ['previous_report', 'left', 'read_again', 'subscriptions_left', 'not_compared', 'skipped_entries', 'accepted'],
            'properties': {
                'previous_report': {
                    'type': 'object',
                    'required': ['generated_at', 'vaults'],
                    'properties': {'generated_at': {'type': ['string', 'null']}, 'vaults': {'$ref': '#/$defs/count'}},
                },
                'left': {'type': 'array', 'items': {'$ref': '#/$defs/scope_change'}},
                'read_again': {'type': 'array', 'items': {'$ref': '#/$defs/scope_change'}},
                'subscriptions_left': {'type': 'array', 'items': {'type': 'string'}},
                'not_compared': {'type': 'array', 'items': {'$ref': '#/$defs/scope_change'}},
                'skipped_entries': {'$ref': '#/$defs/count'},
                'accepted': {'type': 'boolean'},
            },
        },
        'scope_change': {
            'type': 'object',
            'required': ['id', 'name', 'reason', 'code', 'why'],
            'properties': {
                'id': {'type': 'string'},
                'name': {'type': ['string', 'null']},
                'reason': {'enum': ['unreadable', 'gone', 'untagged', 'read_again', 'not_compared']},
                'code': {'type': ['string', 'null']},
                'why': {'type': ['string', 'null']},
            },
        },
        'azure_policy': {
            'type': 'object',
            'required': ['definitions'],
            'properties': {'definitions': {'type': 'array', 'items': {'$ref': '#/$defs/azure_policy_definition'}}},
        },
        'azure_policy_definition': {
            'type': 'object',
            'required': [
                'name',
                'id',
                'display_name',
                'version',
                'parameters',
                'effect',
                'evaluated',
                'vault_type',
                'vaults',
                'non_compliant',
                'help_uri',
            ],
            'properties': {
                'name': {'type': 'string'},
                'id': {'type': 'string'},
                'display_name': {'type': 'string'},
                'version': {'type': 'string'},
                'parameters': {'type': 'object'},
                'effect': {'type': 'string'},
                'evaluated': {'type': 'boolean'},
                'vault_type': {'$ref': '#/$defs/vault_type'},
                'vaults': {'type': 'integer'},
                'non_compliant': {'type': 'array', 'items': {'type': 'string'}},
                'help_uri': {'type': 'string'},
                'related_type': {'type': 'string'},
                'remediation': {'type': 'string'},
                'not_evaluated': {
                    'type': 'array',
                    'items': {'type': 'object', 'required': ['id', 'reason'], 'properties': {'id': {'type': 'string'}, 'reason': {'type': 'string'}}},
                },
            },
        },
        'discovery': {
            'type': 'object',
            'required': ['requested', 'data_time', 'sources', 'source_by_subscription', 'fallbacks'],
            'properties': {
                'requested': {'type': 'array', 'items': {'enum': ['auto', 'resource_graph', 'arm']}},
                'data_time': {'$ref': '#/$defs/nullable_string'},
                'sources': {'type': 'object', 'additionalProperties': {'$ref': '#/$defs/count'}},
                'source_by_subscription': {'type': 'object', 'additionalProperties': {'enum': ['resource_graph', 'arm', 'mixed']}},
                'fallbacks': {
                    'type': 'array',
                    'items': {
                        'type': 'object',
                        'required': ['subscription_id', 'reason'],
                        'properties': {'subscription_id': {'type': 'string'}, 'reason': {'type': 'string'}},
                    },
                },
                'resource_graph': {'type': ['object', 'null']},
                'arm': {'type': ['object', 'null']},
            },
        },
        'nullable_string': {'type': ['string', 'null']},
        'rule_state': {
            'type': 'object',
            'required': ['state', 'compliant'],
            'properties': {'state': {'type': 'string'}, 'compliant': {'type': ['boolean', 'null']}},
        },
        'vault_posture': {
            'type': 'object',
            'required': ['immutability', 'soft_delete', 'retention', 'mua'],
            'additionalProperties': {'$ref': '#/$defs/rule_state'},
            'properties': {
                'immutability': {
                    'allOf': [
                        {'$ref': '#/$defs/rule_state'},
                        {
                            'properties': {
                                'state': {'enum': ['disabled', 'enabled', 'locked', 'unknown']},
                                'retention_days': {'type': ['integer', 'null']},
                            },
                        },
                    ],
                },
                'soft_delete': {
                    'allOf': [
                        {'$ref': '#/$defs/rule_state'},
                        {
                            'properties': {
                                'state': {'enum': ['off', 'on', 'always_on', 'unknown']},
                                'retention_days': {'type': ['integer', 'null']},
                                'enhanced_security': {'enum': ['off', 'on', 'always_on', None]},
                            },
                        },
                    ],
                },
                'retention': {
                    'allOf': [
                        {'$ref': '#/$defs/rule_state'},
                        {
                            'properties': {
                                'state': {'enum': ['meets_minimum', 'below_minimum', 'not_read', 'not_checked', 'unknown']},
                                'policies': {'type': ['integer', 'null']},
                                'weak_tiers': {'$ref': '#/$defs/count'},
                            },
                        },
                    ],
                },
                'mua': {
                    'allOf': [
                        {'$ref': '#/$defs/rule_state'},
                        {
                            'properties': {
                                'state': {'enum': ['protected', 'not_protected', 'unknown']},
                                'resource_guard_id': {'$ref': '#/$defs/nullable_string'},
                            },
                        },
                    ],
                },
            },
        },
        'state_counts': {
            'type': 'object',
            'required': ['states', 'compliant', 'not_compliant', 'not_checked'],
            'properties': {
                'states': {'type': 'object', 'additionalProperties': {'$ref': '#/$defs/count'}},
                'compliant': {'$ref': '#/$defs/count'},
                'not_compliant': {'$ref': '#/$defs/count'},
                'not_checked': {'$ref': '#/$defs/count'},
            },
        },
        'posture': {
            'type': 'object',
            'required': ['vaults', 'locked', 'not_locked', 'all_locked', 'lock_rules', 'rules', 'by_subscription'],
            'properties': {
                'vaults': {'$ref': '#/$defs/count'},
                'locked': {'$ref': '#/$defs/count'},
                'not_locked': {'$ref': '#/$defs/count'},
                'all_locked': {'type': 'boolean'},
                'lock_rules': {'type': 'array', 'items': {'type': 'string'}},
                'rules': {'type': 'object', 'additionalProperties': {'$ref': '#/$defs/state_counts'}},
                'by_subscription': {
                    'type': 'object',
                    'additionalProperties': {
                        'type': 'object',
                        'required': ['vaults', 'locked', 'rules'],
                        'properties': {
                            'vaults': {'$ref': '#/$defs/count'},
                            'locked': {'$ref': '#/$defs/count'},
                            'rules': {'type': 'object', 'additionalProperties': {'$ref': '#/$defs/state_counts'}},
                        },
                    },
                },
            },
        },
        'value': {'type': ['string', 'integer', 'number', 'boolean', 'null', 'object', 'array']},
        'count': {'type': 'integer'},
        'vault_type': {'enum': ['recovery_services', 'backup', None]},
        'setting': {
            'enum': [
                'immutability',
                'soft_delete',
                'soft_delete_retention_days',
                'retention',
                'mua',
                'cross_subscription_restore',
                'public_network_access',
                'alerts',
                'customer_managed_keys',
                'infrastructure_encryption',
                'private_endpoints',
                'storage_redundancy',
                'cross_region_restore',
            ],
        },
        'action': {
            'enum': ['immutability', 'soft_delete', 'retention', 'resource_guard', 'cross_subscription_restore', 'public_network_access', 'alerts'],
        },
        'cross_subscription_restore': {'enum': ['enabled', 'disabled', 'permanently_disabled', None]},
        'public_network_access': {'enum': ['enabled', 'disabled', None]},
        'alerts': {
            'oneOf': [
                {'type': 'null'},
                {
                    'type': 'object',
                    'required': ['job_failure_alerts', 'classic_alerts'],
                    'properties': {
                        'job_failure_alerts': {'enum': ['enabled', 'disabled', None]},
                        'classic_alerts': {'enum': ['enabled', 'disabled', None]},
                    },
                },
            ],
        },
        'required_or_null': {'enum': ['required', None]},
        'storage_redundancy': {
            'oneOf': [{'type': 'null'}, {'type': 'array', 'items': {'enum': ['GeoRedundant', 'LocallyRedundant', 'ZoneRedundant']}}],
        },
        'baseline': {
            'type': 'object',
            'required': ['immutability', 'allow_irreversible', 'retention', 'soft_delete'],
            'properties': {
                'immutability': {'enum': ['disabled', 'enabled', 'locked', None]},
                'allow_irreversible': {'type': 'boolean'},
                'preset_irreversible': {'type': 'array', 'items': {'type': 'string'}},
                'retention': {
                    'oneOf': [
                        {'type': 'null'},
                        {
                            'type': 'object',
                            'required': ['minimum', 'mode'],
                            'properties': {'minimum': {'type': 'object'}, 'mode': {'enum': ['report', 'enforce']}},
                        },
                    ],
                },
                'soft_delete': {
                    'oneOf': [
                        {'type': 'null'},
                        {
                            'type': 'object',
                            'required': ['state', 'retention_days'],
                            'properties': {'state': {'enum': ['off', 'on', 'always_on', None]}, 'retention_days': {'type': ['integer', 'null']}},
                        },
                    ],
                },
                'cross_subscription_restore': {'$ref': '#/$defs/cross_subscription_restore'},
                'public_network_access': {'$ref': '#/$defs/public_network_access'},
                'alerts': {'$ref': '#/$defs/alerts'},
                'customer_managed_keys': {'$ref': '#/$defs/required_or_null'},
                'infrastructure_encryption': {'$ref': '#/$defs/required_or_null'},
                'private_endpoints': {'$ref': '#/$defs/required_or_null'},
                'storage_redundancy': {'$ref': '#/$defs/storage_redundancy'},
                'cross_region_restore': {'$ref': '#/$defs/required_or_null'},
                'resource_guard_id': {'$ref': '#/$defs/nullable_string'},
            },
        },
        'baseline_tier': {
            'type': 'object',
            'required': ['name', 'match', 'immutability', 'soft_delete', 'retention_minimum', 'retention_mode', 'lock_requirements'],
            'properties': {
                'name': {'type': 'string'},
                'match': {
                    'type': 'object',
                    'properties': {
                        'tags': {
                            'type': 'object',
                            'additionalProperties': {'oneOf': [{'type': 'null'}, {'type': 'array', 'items': {'type': 'string'}}]},
                        },
                        'names': {'type': 'array', 'items': {'type': 'string'}},
                        'subscriptions': {'type': 'array', 'items': {'type': 'string'}},
                        'resource_groups': {'type': 'array', 'items': {'type': 'string'}},
                    },
                },
                'immutability': {'enum': ['disabled', 'enabled', 'locked', None]},
                'soft_delete': {'$ref': '#/$defs/baseline/properties/soft_delete'},
                'retention_minimum': {'type': 'object'},
                'retention_mode': {'enum': ['report', 'enforce']},
                'cross_subscription_restore': {'$ref': '#/$defs/cross_subscription_restore'},
                'public_network_access': {'$ref': '#/$defs/public_network_access'},
                'alerts': {'$ref': '#/$defs/alerts'},
                'customer_managed_keys': {'$ref': '#/$defs/required_or_null'},
                'infrastructure_encryption': {'$ref': '#/$defs/required_or_null'},
                'private_endpoints': {'$ref': '#/$defs/required_or_null'},
                'storage_redundancy': {'$ref': '#/$defs/storage_redundancy'},
                'cross_region_restore': {'$ref': '#/$defs/required_or_null'},
                'resource_guard_id': {'$ref': '#/$defs/nullable_string'},
                'lock_requirements': {'type': ['object', 'null']},
            },
        },
        'setting_counts': {
            'type': 'object',
            'required': ['vaults', 'findings', 'fixable', 'unfixable', 'option', 'person'],
            'properties': {
                'vaults': {'$ref': '#/$defs/count'},
                'findings': {'$ref': '#/$defs/count'},
                'fixable': {'$ref': '#/$defs/count'},
                'unfixable': {'$ref': '#/$defs/count'},
                'option': {'$ref': '#/$defs/count'},
                'person': {'$ref': '#/$defs/count'},
            },
        },
        'type_counts': {
            'type': 'object',
            'required': ['vaults', 'drifting', 'findings'],
            'properties': {'vaults': {'$ref': '#/$defs/count'}, 'drifting': {'$ref': '#/$defs/count'}, 'findings': {'$ref': '#/$defs/count'}},
        },
        'summary': {
            'type': 'object',
            'required': [
                'vaults',
                'drifting',
                'clean',
                'findings',
                'fixable',
                'unfixable',
                'resolved',
                'vaults_with_actions',
                'vaults_with_unfixable',
                'mua_protected',
                'by_setting',
                'by_vault_type',
                'by_fix',
                'fixed',
                'changed',
                'errors',
            ],
            'properties': {
                'vaults': {'$ref': '#/$defs/count'},
                'drifting': {'$ref': '#/$defs/count'},
                'clean': {'$ref': '#/$defs/count'},
                'findings': {'$ref': '#/$defs/count'},
                'fixable': {'$ref': '#/$defs/count'},
                'unfixable': {'$ref': '#/$defs/count'},
                'resolved': {'$ref': '#/$defs/count'},
                'vaults_with_actions': {'$ref': '#/$defs/count'},
                'vaults_with_unfixable': {'$ref': '#/$defs/count'},
                'mua_protected': {'$ref': '#/$defs/count'},
                'fixed': {'$ref': '#/$defs/count'},
                'changed': {'$ref': '#/$defs/count'},
                'errors': {'$ref': '#/$defs/count'},
                'by_setting': {
                    'type': 'object',
                    'required': ['immutability', 'soft_delete', 'soft_delete_retention_days', 'retention'],
                    'additionalProperties': {'$ref': '#/$defs/setting_counts'},
                },
                'by_fix': {
                    'type': 'object',
                    'required': ['run', 'option', 'person', 'fixed'],
                    'properties': {
                        'run': {'$ref': '#/$defs/count'},
                        'option': {'$ref': '#/$defs/count'},
                        'person': {'$ref': '#/$defs/count'},
                        'fixed': {'$ref': '#/$defs/count'},
                    },
                },
                'by_vault_type': {
                    'type': 'object',
                    'required': ['recovery_services', 'backup'],
                    'additionalProperties': {'$ref': '#/$defs/type_counts'},
                },
                'by_tier': {'type': 'object', 'required': ['default'], 'additionalProperties': {'$ref': '#/$defs/type_counts'}},
            },
        },
        'finding': {
            'type': 'object',
            'required': ['setting', 'policy', 'tier', 'sub_policy', 'datastore', 'have', 'want', 'fixable', 'reason', 'resolved', 'fix', 'option'],
            'properties': {
                'setting': {'$ref': '#/$defs/setting'},
                'policy': {'$ref': '#/$defs/nullable_string'},
                'tier': {'$ref': '#/$defs/nullable_string'},
                'sub_policy': {'$ref': '#/$defs/nullable_string'},
                'datastore': {'$ref': '#/$defs/nullable_string'},
                'have': {'$ref': '#/$defs/value'},
                'want': {'$ref': '#/$defs/value'},
                'fixable': {'type': 'boolean'},
                'reason': {'$ref': '#/$defs/nullable_string'},
                'resolved': {'type': 'boolean'},
                'fix': {'enum': ['run', 'option', 'person']},
                'option': {'$ref': '#/$defs/nullable_string'},
                'irreversible': {'type': 'boolean'},
                'azure_policy': {'type': 'array', 'items': {'type': 'string'}},
                'azure_policy_non_compliant': {'type': 'array', 'items': {'type': 'string'}},
            },
        },
        'vault': {
            'type': 'object',
            'required': [
                'id',
                'name',
                'vault_type',
                'subscription_id',
                'resource_group',
                'location',
                'drift',
                'status',
                'findings',
                'actions',
                'mua',
                'posture',
            ],
            'properties': {
                'id': {'$ref': '#/$defs/nullable_string'},
                'name': {'$ref': '#/$defs/nullable_string'},
                'vault_type': {'$ref': '#/$defs/vault_type'},
                'subscription_id': {'$ref': '#/$defs/nullable_string'},
                'resource_group': {'$ref': '#/$defs/nullable_string'},
                'location': {'$ref': '#/$defs/nullable_string'},
                'tier': {'type': 'string'},
                'drift': {'type': 'boolean'},
                'status': {'enum': ['compliant', 'fixed', 'drift']},
                'findings': {'type': 'array', 'items': {'$ref': '#/$defs/finding'}},
                'posture': {'$ref': '#/$defs/vault_posture'},
                'actions': {
                    'type': 'object',
                    'required': ['immutability', 'soft_delete', 'raise_policies'],
                    'properties': {
                        'immutability': {'enum': ['disabled', 'enabled', 'locked', None]},
                        'soft_delete': {
                            'oneOf': [
                                {'type': 'null'},
                                {
                                    'type': 'object',
                                    'required': ['state', 'retention_days'],
                                    'properties': {'state': {'enum': ['off', 'on', 'always_on']}, 'retention_days': {'type': ['integer', 'null']}},
                                },
                            ],
                        },
                        'raise_policies': {'type': 'array', 'items': {'type': 'string'}},
                        'cross_subscription_restore': {'$ref': '#/$defs/cross_subscription_restore'},
                        'public_network_access': {'$ref': '#/$defs/public_network_access'},
                        'alerts': {'$ref': '#/$defs/alerts'},
                        'resource_guard': {'$ref': '#/$defs/nullable_string'},
                    },
                },
                'mua': {
                    'type': 'object',
                    'required': ['protected', 'resource_guard_id'],
                    'properties': {'protected': {'type': 'boolean'}, 'resource_guard_id': {'$ref': '#/$defs/nullable_string'}},
                },
            },
        },
        'change': {
            'type': 'object',
            'required': ['action', 'setting', 'policy', 'tier', 'before', 'after'],
            'properties': {
                'action': {'$ref': '#/$defs/action'},
                'setting': {'type': 'string'},
                'policy': {'$ref': '#/$defs/nullable_string'},
                'tier': {'$ref': '#/$defs/nullable_string'},
                'sub_policy': {'$ref': '#/$defs/nullable_string'},
                'datastore': {'$ref': '#/$defs/nullable_string'},
                'before': {'$ref': '#/$defs/value'},
                'after': {'$ref': '#/$defs/value'},
                'irreversible': {'type': 'boolean'},
            },
        },
        'changed_vault': {
            'type': 'object',
            'required': ['id', 'name', 'vault_type', 'subscription_id', 'resource_group', 'changes'],
            'properties': {
                'id': {'type': 'string'},
                'name': {'$ref': '#/$defs/nullable_string'},
                'vault_type': {'$ref': '#/$defs/vault_type'},
                'subscription_id': {'$ref': '#/$defs/nullable_string'},
                'resource_group': {'$ref': '#/$defs/nullable_string'},
                'tier': {'type': 'string'},
                'changes': {'type': 'array', 'items': {'$ref': '#/$defs/change'}},
            },
        },
        'error': {
            'type': 'object',
            'required': ['scope', 'message', 'action', 'vault'],
            'properties': {
                'scope': {'type': 'string'},
                'message': {'type': 'string'},
                'action': {'oneOf': [{'type': 'null'}, {'$ref': '#/$defs/action'}]},
                'vault': {'$ref': '#/$defs/nullable_string'},
            },
        },
        'date': {'type': ['string', 'null']},
        'lock_readiness': {
            'type': 'object',
            'required': [
                'id',
                'name',
                'vault_type',
                'subscription_id',
                'resource_group',
                'ready',
                'status',
                'as_of',
                'blockers',
                'protected_items',
                'policies',
                'held_until',
                'held_by',
                'immutability_days',
                'immutable_until',
                'commitments',
                'requirements',
            ],
            'properties': {
                'id': {'type': 'string'},
                'name': {'$ref': '#/$defs/nullable_string'},
                'vault_type': {'$ref': '#/$defs/vault_type'},
                'subscription_id': {'$ref': '#/$defs/nullable_string'},
                'resource_group': {'$ref': '#/$defs/nullable_string'},
                'tier': {'type': 'string'},
                'ready': {'type': 'boolean'},
                'status': {'enum': ['not ready', 'would lock', 'locked', 'not locked']},
                'as_of': {'$ref': '#/$defs/date'},
                'blockers': {
                    'type': 'array',
                    'items': {
                        'type': 'object',
                        'required': ['requirement', 'want', 'found', 'message'],
                        'properties': {
                            'requirement': {
                                'enum': ['max_retention', 'require_soft_delete', 'require_mua', 'no_unfixable_findings', 'readable', 'apply'],
                            },
                            'want': {'$ref': '#/$defs/value'},
                            'found': {'$ref': '#/$defs/value'},
                            'message': {'type': 'string'},
                        },
                    },
                },
                'protected_items': {
                    'type': 'object',
                    'required': ['count', 'by_datasource_type'],
                    'properties': {
                        'count': {'$ref': '#/$defs/count'},
                        'by_datasource_type': {'type': 'object', 'additionalProperties': {'$ref': '#/$defs/count'}},
                    },
                },
                'policies': {
                    'type': 'array',
                    'items': {
                        'type': 'object',
                        'required': ['name', 'items', 'held_until'],
                        'properties': {
                            'name': {'$ref': '#/$defs/nullable_string'},
                            'items': {'$ref': '#/$defs/count'},
                            'held_until': {'$ref': '#/$defs/date'},
                        },
                    },
                },
                'held_until': {'$ref': '#/$defs/date'},
                'held_by': {
                    'oneOf': [
                        {'type': 'null'},
                        {
                            'type': 'object',
                            'required': ['policy', 'tier', 'datastore', 'duration'],
                            'properties': {
                                'policy': {'$ref': '#/$defs/nullable_string'},
                                'tier': {'$ref': '#/$defs/nullable_string'},
                                'datastore': {'$ref': '#/$defs/nullable_string'},
                                'duration': {'type': 'string'},
                            },
                        },
                    ],
                },
                'immutability_days': {'type': ['integer', 'null']},
                'immutable_until': {'$ref': '#/$defs/date'},
                'commitments': {'type': 'array', 'items': {'type': 'string'}},
                'requirements': {
                    'type': 'object',
                    'required': ['max_retention', 'require_soft_delete', 'require_mua', 'no_unfixable_findings'],
                    'properties': {
                        'max_retention': {'$ref': '#/$defs/nullable_string'},
                        'require_soft_delete': {'enum': ['on', 'always_on', None]},
                        'require_mua': {'type': 'boolean'},
                        'no_unfixable_findings': {'type': 'boolean'},
                    },
                },
            },
        },
    },
}

_TYPE_WORDS = {'string': 'a string', 'integer': 'a whole number', 'number': 'a number', 'boolean': 'a boolean', 'object': 'a dictionary',
               'array': 'a list', 'null': 'null'}
_KEY = re.compile(r'^[A-Za-z0-9_-]+$')
_SHOWN_MAX = 60


def _is(value, json_type):
    """Whether ``value`` is of a JSON Schema type (JSON's: a boolean is no number, 3.0 is an integer)."""
    if json_type == 'null':
        return value is None
    if json_type == 'boolean':
        return isinstance(value, bool)
    if json_type == 'string':
        return isinstance(value, str)
    if json_type == 'object':
        return isinstance(value, Mapping)
    if json_type == 'array':
        return isinstance(value, (list, tuple))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if json_type == 'integer':
        return isinstance(value, int) or (math.isfinite(value) and value.is_integer())
    return json_type == 'number'


def _same(value, wanted):
    """JSON equality of a value and an enum / const member: true is not 1, 'x' is not a number."""
    if wanted is None or isinstance(wanted, bool):
        return value is wanted
    if isinstance(wanted, str):
        return isinstance(value, str) and value == wanted
    return not isinstance(value, bool) and isinstance(value, (int, float)) and value == wanted


def _got(value):
    if isinstance(value, Mapping):
        return 'a dictionary'
    if isinstance(value, (list, tuple)):
        return 'a list'
    text = shown(value)
    return text if len(text) <= _SHOWN_MAX else text[:_SHOWN_MAX - 4] + "...'"


def _choices(values):
    words = [shown(v) for v in values]
    return words[0] if len(words) == 1 else '%s or %s' % (', '.join(words[:-1]), words[-1])


def _key_path(path, key):
    if isinstance(key, str) and _KEY.match(key):
        return '%s.%s' % (path, key) if path else key
    return '%s[%s]' % (path, shown(key))


def _pointer(root, ref):
    """The schema a local ``$ref`` (``#/$defs/vault``, ``#/$defs/baseline/properties/soft_delete``) points at."""
    if not ref.startswith('#/'):
        raise ValueError('unsupported $ref %s' % ref)
    node = root
    for part in ref[2:].split('/'):
        part = part.replace('~1', '/').replace('~0', '~')
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def _resolve(schema, root):
    while '$ref' in schema:
        schema = _pointer(root, schema['$ref'])
    return schema


def _types(schema):
    declared = schema.get('type')
    return [declared] if isinstance(declared, str) else list(declared or [])


def _admits(schema, value, root):
    """Whether a oneOf branch is of the value's kind (its type, enum or const allows that kind), to name its problem."""
    schema = _resolve(schema, root)
    if 'type' in schema:
        return any(_is(value, t) for t in _types(schema))
    if 'enum' in schema:
        return any(value is None if v is None else isinstance(value, type(v)) and isinstance(value, bool) == isinstance(v, bool)
                   for v in schema['enum'])
    return True


def _problem(value, schema, path, root):
    if '$ref' in schema:
        # The schema pointed at, then the keywords beside the $ref (JSON Schema 2020-12 applies both).
        found = _problem(value, _pointer(root, schema['$ref']), path, root)
        if found:
            return found
        schema = {key: sub for key, sub in schema.items() if key != '$ref'}
    where = path or 'the document'
    types = _types(schema)
    if types and not any(_is(value, t) for t in types):
        return '%s: expected %s, got %s' % (where, ' or '.join(_TYPE_WORDS[t] for t in types), _got(value))
    if 'const' in schema and not _same(value, schema['const']):
        return '%s: expected %s, got %s' % (where, shown(schema['const']), _got(value))
    if 'enum' in schema and not any(_same(value, v) for v in schema['enum']):
        return '%s: expected one of %s, got %s' % (where, _choices(schema['enum']), _got(value))
    for part in schema.get('allOf') or []:
        found = _problem(value, part, path, root)
        if found:
            return found
    if 'oneOf' in schema:
        found = [_problem(value, part, path, root) for part in schema['oneOf']]
        if all(found):
            kind = [text for part, text in zip(schema['oneOf'], found) if _admits(part, value, root)]
            return kind[0] if len(kind) == 1 else found[0]
    if isinstance(value, Mapping):
        return _object_problem(value, schema, path, root)
    if isinstance(value, (list, tuple)) and 'items' in schema:
        for index, item in enumerate(value):
            found = _problem(item, schema['items'], '%s[%d]' % (path, index), root)
            if found:
                return found
    return None


def _object_problem(value, schema, path, root):
    for key in value:
        if not isinstance(key, str):
            return '%s: a key is %s, not text (a JSON object has text keys)' % (path or 'the document', _got(key))
    for key in schema.get('required') or []:
        if key not in value:
            return '%s: missing (it is required)' % _key_path(path, key)
    properties = schema.get('properties') or {}
    for key, sub in properties.items():
        if key in value:
            found = _problem(value[key], sub, _key_path(path, key), root)
            if found:
                return found
    extra = schema.get('additionalProperties')
    if extra is not None:
        for key in value:
            if key not in properties:
                found = _problem(value[key], extra, _key_path(path, key), root)
                if found:
                    return found
    return None


def first_problem(document, schema=None):
    """The first place where ``document`` is not as ``schema`` (SCHEMA by default) says, as ``path: what is wrong``, or None."""
    root = SCHEMA if schema is None else schema
    return _problem(document, root, '', root)
