# vaultlock.azure developer entry points. Only Python 3.11+ and make are needed: every target that
# needs packages creates .venv and installs the pinned dependencies first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
COLLECTIONS := .cache/collections
LINK := $(COLLECTIONS)/ansible_collections/vaultlock/azure
PYTEST := $(PY) -m pytest -p no:cacheprovider


.PHONY: docs changelog lint integration-compat interop
.PHONY: venv link test sanity units integration integration-azure demo bench build clean

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -r requirements-dev.txt
	touch $(STAMP)

# The collection must be importable as ansible_collections.vaultlock.azure: link the checkout there.
link:
	@mkdir -p $(dir $(LINK))
	@ln -sfn "$(CURDIR)" $(LINK)

test: sanity lint units integration

sanity: venv
	$(PY) tests/sanity/run_sanity.py

lint: venv link
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/$(COLLECTIONS) $(VENV)/bin/ansible-lint --offline --profile production roles playbooks

units: venv link
	$(PYTEST) tests/unit

integration: venv link
	$(PYTEST) tests/integration

# The integration suite on the oldest ansible-core declared in meta/runtime.yml (not part of make test).
COMPAT_CORE ?= 2.17
integration-compat: venv link
	$(PYTHON) -m venv .venv-$(COMPAT_CORE)
	grep -v -E '^(ansible-core|ansible-lint|ansible-compat|resolvelib)==' constraints.txt > .venv-$(COMPAT_CORE)/constraints.txt
	.venv-$(COMPAT_CORE)/bin/pip install --quiet --disable-pip-version-check -c .venv-$(COMPAT_CORE)/constraints.txt \
	  "ansible-core==$(COMPAT_CORE).*" -r requirements.txt pytest hypothesis trustme PyYAML jsonschema
	.venv-$(COMPAT_CORE)/bin/python -m pytest -p no:cacheprovider tests/integration

# Microsoft's az CLI against the ARM emulator (not part of make test; docs/development.md). azure-cli goes into its
# own virtualenv: it pins its own SDK versions, which must not mix with the collection's.
INTEROP_VENV ?= .venv-interop
INTEROP_AZ_CLI ?= azure-cli
interop: venv
	@test -x $(INTEROP_VENV)/bin/az || { $(PYTHON) -m venv $(INTEROP_VENV) && \
	  $(INTEROP_VENV)/bin/pip install --quiet --disable-pip-version-check $(INTEROP_AZ_CLI); }
	$(PY) tests/interop/run_az.py --az $(INTEROP_VENV)/bin/az

# The live suite against a real subscription: maintainers only, never in CI (docs/development.md).
integration-azure: venv link
	@if [ -n "$$CI" ]; then echo "integration-azure never runs in CI"; exit 2; fi
	@for v in AZURE_SUBSCRIPTION_ID AZURE_CLIENT_ID AZURE_TENANT VAULTLOCK_LIVE_RESOURCE_GROUP; do \
	  if [ -z "$$(printenv $$v)" ]; then echo "set $$v first (see docs/development.md)"; exit 2; fi; done
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/$(COLLECTIONS) $(PYTEST) tests/live

# The hardening playbook against the ARM emulator: check, apply, check again (demo/run_demo.py).
demo: venv
	$(PY) demo/run_demo.py

bench: venv link
	$(PY) bench/run.py

# Pages under docs/plugins come from each plugin's own documentation (tests/unit/test_docs.py checks them).
docs: venv link
	$(PY) docs/generate.py

changelog: venv
	$(VENV)/bin/antsibull-changelog lint
	$(VENV)/bin/antsibull-changelog release --version $$(sed -n 's/^version: //p' galaxy.yml)

build: venv
	@mkdir -p build
	$(VENV)/bin/ansible-galaxy collection build --force --output-path build .

clean:
	rm -rf $(VENV) $(INTEROP_VENV) .cache build tests/output
