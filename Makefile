# mailops.workmail: development, demo and test entry points. Every target does its own set-up.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON311 ?= $(shell tools/find-python.sh 3.11)
PYTHON312 ?= $(shell tools/find-python.sh 3.12)
PIP_FLAGS := --quiet --disable-pip-version-check
PORT ?= 5080
COLLECTIONS_TREE := .tmp/collections/ansible_collections/mailops/workmail

.PHONY: help setup setup-py312 demo test test-dialects sanity lint emulator bench build clean collections-tree

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup: .venv/.installed collections-tree ## create .venv (Python 3.11, ansible 12.3.0) with the pinned tools

.venv/.installed: requirements/py311.txt
	@test -n "$(PYTHON311)" || { echo "make setup: no Python 3.11 interpreter found (python3.11 or pyenv)" >&2; exit 1; }
	@echo "Creating .venv with $(PYTHON311) and requirements/py311.txt"
	@$(PYTHON311) -m venv .venv
	@.venv/bin/python -m pip install $(PIP_FLAGS) -r requirements/py311.txt
	@touch $@

setup-py312: .venv-py312/.installed collections-tree ## create .venv-py312 (Python 3.12, ansible 14.5.0)

.venv-py312/.installed: requirements/py312.txt
	@test -n "$(PYTHON312)" || { echo "make setup-py312: no Python 3.12 interpreter found (python3.12 or pyenv)" >&2; exit 1; }
	@echo "Creating .venv-py312 with $(PYTHON312) and requirements/py312.txt"
	@$(PYTHON312) -m venv .venv-py312
	@.venv-py312/bin/python -m pip install $(PIP_FLAGS) -r requirements/py312.txt
	@touch $@

collections-tree: # .tmp/collections holds this collection (a link to the root) for Ansible and pytest
	@mkdir -p $(dir $(COLLECTIONS_TREE))
	@ln -sfn "$(CURDIR)" $(COLLECTIONS_TREE)

demo: setup ## export mailboxes of the demo organization from the local AWS
	@tools/with-emulator.sh .venv env PATH="$(CURDIR)/.venv/bin:$$PATH" \
		ANSIBLE_COLLECTIONS_PATH="$(CURDIR)/.tmp/collections" ANSIBLE_PYTHON_INTERPRETER="$(CURDIR)/.venv/bin/python" \
		ansible-playbook demo/demo.yml

test: setup ## the full test suite: pytest, ansible-test sanity, ansible-lint (and the Python 3.12 stack if present)
	@tools/test.sh

test-dialects: setup ## the campaign's integration tests under each dialect of the local AWS (what AWS leaves undocumented)
	@tools/test-dialects.sh

sanity: setup ## ansible-test sanity, offline, on every stack whose Python is present
	@tools/sanity.sh .venv 3.11
	@if [ -n "$(PYTHON312)" ]; then $(MAKE) --no-print-directory setup-py312 && tools/sanity.sh .venv-py312 3.12; \
	else echo "SKIPPED: sanity on the Python 3.12 / ansible-core 2.21 stack (no python3.12 interpreter)"; fi

lint: setup ## ansible-lint (production profile, offline)
	@PATH="$(CURDIR)/.venv/bin:$$PATH" ANSIBLE_COLLECTIONS_PATH="$(CURDIR)/.tmp/collections" ansible-lint --nocolor

emulator: setup ## run the local AWS in the foreground on PORT (default 5080)
	@.venv/bin/python tests/emulator/serve.py --port $(PORT)

bench: setup ## benchmarks (they print figures, not pass/fail; the 10,000-mailbox growth run takes about half an hour)
	@for b in tests/benchmarks/bench_*.py; do .venv/bin/python "$$b" || exit 1; done

build: setup ## build the collection tarball into build/
	@mkdir -p build
	@.venv/bin/ansible-galaxy collection build --force --output-path build .

clean: ## remove virtual environments, generated trees and build output
	rm -rf .venv .venv-py312 .tmp build tests/output .pytest_cache
