# vaultlock.azure developer entry points. Only Python 3.11+ and make are needed: every target that
# needs packages creates .venv and installs the pinned dependencies first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
COLLECTIONS := .cache/collections
LINK := $(COLLECTIONS)/ansible_collections/vaultlock/azure
PYTEST := $(PY) -m pytest -p no:cacheprovider
# Python's bytecode cache on for what make runs, where the environment turns it off (PYTHONDONTWRITEBYTECODE, set for every
# process on some machines): without it every pytest worker parses, rewrites (pytest's assertion messages) and compiles every
# test module again, 7 CPU-seconds a unit-test worker, and every process compiles the emulator again. The caches are in
# __pycache__ directories, which git and the collection's build ignore.
unexport PYTHONDONTWRITEBYTECODE
# units and integration run on PYTEST_WORKERS pytest-xdist workers (0: in this process, no xdist), a file per worker at a
# time (pytest.ini: --dist loadfile, so a module's tests and its module fixtures stay together, in file order). Each
# worker starts its own ARM emulator (tests/conftest.py).
PYTEST_WORKERS ?= 2
XDIST := -n $(PYTEST_WORKERS)
# The integration tests also wait (Resource Graph's quota windows, Retry-After, long-running operations, the browser):
# measured on this 2-core machine, two workers kept the cores 80 to 85 % busy and three 96 % (docs/development.md, issue
# 24, seventh round), so integration runs one worker more than the units (none when PYTEST_WORKERS is 0).
INTEGRATION_WORKERS ?= $(shell if [ "$(PYTEST_WORKERS)" = 0 ]; then echo 0; else echo $$(( $(PYTEST_WORKERS) + 1 )); fi)
# make test and make check run the units beside sanity, which keeps one core busy: there the units get one worker fewer
# (GATE_UNIT_WORKERS; in this process when PYTEST_WORKERS is 2 or less). Two workers on the one core left would each
# collect every test module and start an emulator of its own for no gain in time: on this 2-core machine the units took
# 46 CPU-seconds in one process against 63 on two workers (docs/development.md, issue 24, ninth round). `make units`
# alone keeps PYTEST_WORKERS.
UNIT_WORKERS ?= $(PYTEST_WORKERS)
GATE_UNIT_WORKERS ?= $(shell if [ "$(PYTEST_WORKERS)" -le 2 ]; then echo 0; else echo $$(( $(PYTEST_WORKERS) - 1 )); fi)


.PHONY: docs changelog lint integration-compat interop tools-venv docs-lint galaxy-import browser install
.PHONY: venv link test check sanity units integration integration-azure demo bench build clean version coverage

# The collection's version has one source: COLLECTION_VERSION in plugins/module_utils/_settings.py (the modules read it
# for the User-Agent; AnsiballZ ships only module_utils, so a module cannot read galaxy.yml). `make version` writes it
# into galaxy.yml, and build, install and changelog run it first.
VERSION := $(shell sed -n "s/^COLLECTION_VERSION = '\(.*\)'$$/\1/p" plugins/module_utils/_settings.py)
# Release tools (galaxy-importer, antsibull-docs) need other versions of packages than .venv pins: own virtualenv.
TOOLS_VENV ?= .venv-tools
TOOLS_STAMP := $(TOOLS_VENV)/.installed
# make build writes the tarball here (make install and galaxy-import take it from there, unless galaxy-import is handed one).
BUILD_DIR ?= build
TARBALL := $(BUILD_DIR)/vaultlock-azure-$(VERSION).tar.gz

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -r requirements-dev.txt
	touch $(STAMP)

# The collection must be importable as ansible_collections.vaultlock.azure: link the checkout there.
link:
	@mkdir -p $(dir $(LINK))
	@ln -sfn "$(CURDIR)" $(LINK)

# The fast gate (about 2 minutes): what most changes break first. sanity (ansible-test, one core) runs beside lint and
# the units, stopping both when it fails and the other way round (tests/release/stages.sh: each stage's output in
# tests/output/stages/, its wall time at the end).
check:
	@MAKE="$(MAKE)" UNIT_WORKERS=$(GATE_UNIT_WORKERS) bash tests/release/stages.sh --name check venv "sanity | lint units"

# Everything, stopping at the first stage that fails, with each stage's wall time at the end (tests/release/stages.sh).
# First the two virtualenvs at once (each is one pip, single-core: on a fresh clone the venv alone left the other core
# idle for its 17 s), and the tarball (make build, a few seconds) once the venv is there, while the tools virtualenv
# is still made. Then three lanes: sanity; lint, the units, docs-lint and galaxy-import; the integration tests. The
# tarball is built before any of them and never again in the run: galaxy-import checks, and the integration tests
# install, that one file (VAULTLOCK_COLLECTION_TARBALL, which stages.sh hands to the steps after the build). The
# integration tests (CPU-bound, the longest stage) start with the other lanes instead of after galaxy-import. A lane
# that fails stops the others.
test:
	@MAKE="$(MAKE)" UNIT_WORKERS=$(GATE_UNIT_WORKERS) VAULTLOCK_STAGES_TARBALL="$(abspath $(TARBALL))" bash tests/release/stages.sh \
	  "venv build | tools-venv" "sanity | lint units docs-lint galaxy-import | integration"

$(TOOLS_STAMP): constraints-tools.txt
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/pip install --quiet --disable-pip-version-check -c constraints-tools.txt galaxy-importer antsibull-docs
	touch $(TOOLS_STAMP)

tools-venv: $(TOOLS_STAMP)

# The plugin documentation as docs.ansible.com renders it (markup, references, semantics), and the changelog.
docs-lint: tools-venv
	PATH="$(CURDIR)/$(TOOLS_VENV)/bin:$$PATH" $(TOOLS_VENV)/bin/antsibull-docs lint-collection-docs --plugin-docs .
	$(TOOLS_VENV)/bin/antsibull-changelog lint

# What Galaxy runs on an uploaded tarball (without ansible-test, which needs containers), then ansible-builder's view
# of the dependencies (tests/release/galaxy_import.py says which importer warnings are accepted, and why). It builds
# the tarball first, unless it is handed one in VAULTLOCK_COLLECTION_TARBALL: make test builds once, before its lanes,
# and galaxy-import then checks that very file, without rewriting it while the integration tests install it.
GALAXY_IMPORT_TARBALL = $(or $(VAULTLOCK_COLLECTION_TARBALL),$(TARBALL))
galaxy-import: tools-venv $(if $(VAULTLOCK_COLLECTION_TARBALL),,build)
	@test -f "$(GALAXY_IMPORT_TARBALL)" || { echo "make galaxy-import: no tarball at $(GALAXY_IMPORT_TARBALL)"; exit 2; }
	PATH="$(CURDIR)/$(TOOLS_VENV)/bin:$$PATH" $(TOOLS_VENV)/bin/python tests/release/galaxy_import.py "$(GALAXY_IMPORT_TARBALL)"

# Debian's chromium and chromedriver for the HTML report test (tests/integration/test_role_reports.py). Installing
# them needs root or sudo: without either, this fails and prints the command that installs them.
BROWSER_INSTALL := apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null; then \
	  echo "make browser: /usr/bin/chromium and /usr/bin/chromedriver are missing and there is no apt-get."; \
	  echo "Install chromium and its chromedriver (Debian: chromium chromium-driver), then run make again."; exit 2; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; else \
	  echo "make browser: /usr/bin/chromium and /usr/bin/chromedriver are missing, and installing them needs root or sudo"; \
	  echo "(this user is $$(id -un), and there is no sudo). As root, run:"; \
	  echo "  $(BROWSER_INSTALL)"; \
	  echo "then run make again."; exit 2; fi; \
	echo "installing Debian's chromium and chromium-driver"; \
	$$SUDO sh -c '$(BROWSER_INSTALL) >/dev/null' || { \
	  echo "make browser: installing chromium failed; as root, run:"; echo "  $(BROWSER_INSTALL)"; exit 2; }

sanity: venv
	$(PY) tests/sanity/run_sanity.py

# flake8's W503 and W504 together (no line break before a binary operator, nor after one: rewrap the expression instead).
# pycodestyle leaves both out by default and ansible-test's pep8 ignores them, but galaxy-importer's flake8 reports one.
lint: venv link
	$(PY) -m flake8 --max-line-length 160 --select W503,W504 plugins tests
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/$(COLLECTIONS) $(VENV)/bin/ansible-lint --offline --profile production roles playbooks

units: venv link
	$(PYTEST) -n $(UNIT_WORKERS) tests/unit

integration: venv link browser
	$(PYTEST) -n $(INTEGRATION_WORKERS) tests/integration

# Line coverage of plugins/ over the unit and integration tests (not part of make test; docs/development.md, "How long the
# tests take"). Every Python process the tests start imports tests/coverage/sitecustomize.py (PYTHONPATH), which starts
# coverage.py (tests/coverage/coveragerc): pytest and its workers, each ansible-playbook, its task workers (where the
# modules run in process) and any AnsiballZ module. The data files are combined and reported on plugins/ only.
# VAULTLOCK_PROCESS_LOG logs every Python process with the test file that started it: the ansible-playbook runs are counted.
COVERAGE_DIR ?= tests/output/coverage
COVERAGE_TESTS ?= tests/unit tests/integration
COVERAGE_ENV = VAULTLOCK_REPO="$(CURDIR)" VAULTLOCK_COVERAGE_DIR="$(abspath $(COVERAGE_DIR))"
coverage: venv link browser
	@$(PY) -c 'import coverage' 2>/dev/null || { echo "make coverage: coverage.py is missing from $(VENV) (requirements-dev.txt)"; exit 2; }
	rm -rf $(COVERAGE_DIR) && mkdir -p $(COVERAGE_DIR)
	$(COVERAGE_ENV) COVERAGE_PROCESS_START="$(CURDIR)/tests/coverage/coveragerc" PYTHONPATH="$(CURDIR)/tests/coverage" \
	  VAULTLOCK_PROCESS_LOG="$(abspath $(COVERAGE_DIR))/processes.txt" $(PYTEST) $(XDIST) $(COVERAGE_TESTS)
	$(COVERAGE_ENV) $(PY) -m coverage combine --quiet --rcfile=tests/coverage/coveragerc
	$(COVERAGE_ENV) $(PY) -m coverage report --rcfile=tests/coverage/coveragerc | tee $(COVERAGE_DIR)/report.txt
	@awk -F'\t' '$$1 == "ansible-playbook" { split($$2, part, "/"); n[part[2] == "" ? "outside a test" : "tests/" part[2]]++ } \
	  END { for (k in n) print "ansible-playbook runs started by " k ": " n[k] }' $(COVERAGE_DIR)/processes.txt

# The unit and integration suites on the oldest ansible-core declared in meta/runtime.yml (not part of make test): the
# units first (about a minute), since a unit failure there (ansible-core's own error coming first, an API added later)
# is not caught by the integration tests. The compat virtualenv gets what make venv installs (requirements-dev.txt), with ansible-core at COMPAT_CORE and the
# packages pinned to ansible-core's release left to pip, and then make venv's stamp: the docs' shell blocks
# (tests/integration/test_doc_shell_blocks.py) run make venv with .venv linked to the virtualenv the tests run in, and
# need it to be what make venv makes.
COMPAT_CORE ?= 2.17
COMPAT_VENV ?= .venv-$(COMPAT_CORE)
integration-compat: venv link
	$(PYTHON) -m venv $(COMPAT_VENV)
	grep -v -E '^(ansible-core|ansible-lint|ansible-compat|resolvelib)==' constraints.txt > $(COMPAT_VENV)/constraints.txt
	$(COMPAT_VENV)/bin/pip install --quiet --disable-pip-version-check -c $(COMPAT_VENV)/constraints.txt \
	  "ansible-core==$(COMPAT_CORE).*" -r requirements-dev.txt
	touch $(COMPAT_VENV)/.installed
	$(COMPAT_VENV)/bin/python -m pytest -p no:cacheprovider -n $(UNIT_WORKERS) tests/unit
	$(COMPAT_VENV)/bin/python -m pytest -p no:cacheprovider $(XDIST) tests/integration

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

# BENCH_ARGS="--quick --no-write" for a small run that writes no docs (bench/run.py --help lists the options).
bench: venv link
	$(PY) bench/run.py $(BENCH_ARGS)

# Pages under docs/plugins come from each plugin's own documentation (tests/unit/test_docs.py checks them).
docs: venv link
	$(PY) docs/generate.py

# Release the fragments as galaxy.yml's version into changelogs/changelog.yaml and CHANGELOG.md (ansible-doc must be
# on PATH: antsibull-changelog lists the new modules, plugins and roles from their version_added).
version:
	@test -n "$(VERSION)" || { echo "no COLLECTION_VERSION in plugins/module_utils/_settings.py"; exit 2; }
	@grep -qx 'version: $(VERSION)' galaxy.yml || { sed -i.bak 's/^version: .*/version: $(VERSION)/' galaxy.yml && rm -f galaxy.yml.bak; }

changelog: venv link version
	$(VENV)/bin/antsibull-changelog lint
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/antsibull-changelog release --version $(VERSION)

build: venv version
	@mkdir -p $(BUILD_DIR)
	$(VENV)/bin/ansible-galaxy collection build --force --output-path $(BUILD_DIR) .

# Build, then install the tarball into COLLECTIONS_PATH with .venv's ansible-galaxy, so no ansible-core is needed
# outside .venv for this step (running playbooks needs ansible-core and requirements.txt where you run them).
COLLECTIONS_PATH ?= $(HOME)/.ansible/collections
install: build
	$(VENV)/bin/ansible-galaxy collection install --force -p "$(COLLECTIONS_PATH)" $(TARBALL)

clean:
	rm -rf $(VENV) $(TOOLS_VENV) $(INTEROP_VENV) .cache build tests/output
