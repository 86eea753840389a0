# The two commands of the README do all the set-up themselves: `make qualify` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

REPORT_DIR ?= reports
NODE_INSTALLED := node_modules/.installed

.PHONY: qualify test lint lint-proxy serve report browser clean

qualify: $(INSTALLED)
	$(BIN)/recette run

# Like Starlette's scripts/check: style, types and layers first (seconds), then the tests. The tests mostly
# wait (on servers, returns and deadlines: 40 % of 2 cores busy with 2 workers), so 4 workers share 2 cores:
# 9 min 30 s → 5 min 53 s on the 2-core machine, 1079 tests.
CODE := harness mocks tests load
test: lint browser
	$(BIN)/pytest -n 4 --dist loadfile

lint: $(INSTALLED)
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/mypy
	$(BIN)/lint-imports

serve: $(INSTALLED)
	$(BIN)/recette serve

# The PV test looks at the PV in Debian's chromium, and the evidence test watches `recette serve` create its
# state file under strace: both installed when missing and we are root with apt-get (elsewhere those tests
# are skipped, and the PV's fails under CI=true).
browser:
	@(command -v chromium && command -v strace) >/dev/null || [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null \
		|| (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium strace)
	@command -v chromium >/dev/null || echo "chromium absent : le test du PV dans un navigateur sera ignoré"

# The Allure HTML report of the latest run, as one file that opens without a server (Allure 3, pinned in
# package-lock.json); needs Node.js. The PV de recette (pv-recette.html) never depends on it.
ALLURE_CONFIG := {"plugins": {"awesome": {"options": {"singleFile": true, "reportLanguage": "fr", "groupBy": ["feature", "story"]}}}}
report:
	@if ! command -v node >/dev/null || ! command -v npm >/dev/null; then \
		echo "make report : Node.js (node, npm) absent, rapport Allure HTML non généré"; exit 0; fi; \
	results=$$(ls -1d $(REPORT_DIR)/*/allure-results 2>/dev/null | sort | tail -n 1); \
	[ -n "$$results" ] || { echo "make report : aucune exécution dans $(REPORT_DIR)/ (lancer recette run)"; exit 1; }; \
	$(MAKE) -s $(NODE_INSTALLED) || exit 1; \
	run_dir=$$(dirname "$$results"); config_dir=$$(mktemp -d); \
	printf '%s' '$(ALLURE_CONFIG)' > "$$config_dir/allurerc.json"; \
	rm -rf "$$run_dir/allure-report"; \
	node_modules/.bin/allure generate "$$results" --config "$$config_dir/allurerc.json" \
		--output "$$run_dir/allure-report" --report-name "Recette ASP, exécution $$(basename "$$run_dir")"; \
	status=$$?; rm -rf "$$config_dir"; \
	[ $$status != 0 ] || echo "Rapport Allure : $$run_dir/allure-report/index.html"; exit $$status

$(NODE_INSTALLED): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

clean:
	rm -rf $(VENV) reports/*/ .pytest_cache node_modules

# mitmproxy 11.0 (the last release for Python 3.11) pins cryptography < 44.1, pyOpenSSL 24.3, h11 0.14 and
# Flask 3.1.0, older than what .venv resolves: `recette proxy` runs it in its own process from its own venv.
PROXY_VENV := .venv-proxy
PROXY_INSTALLED := $(PROXY_VENV)/.installed
$(PROXY_INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(PROXY_VENV)
	$(PROXY_VENV)/bin/pip install --quiet --upgrade pip
	$(PROXY_VENV)/bin/pip install --quiet -e '.[proxy]'
	touch $@

# harness/proxy's addons type-checked against the mitmproxy they run with (in .venv-proxy): `make lint` sees
# mitmproxy as missing, hence Any, and would let a wrong attribute of a flow through.
lint-proxy: $(INSTALLED) $(PROXY_INSTALLED)
	$(BIN)/mypy --python-executable $(PROXY_VENV)/bin/python harness/proxy
test: $(PROXY_INSTALLED) lint-proxy
