# The developer's verbs. `make test` is what CI runs.
.PHONY: install dev test lint format typecheck check migrate bench

UV ?= uv

install:  ## Install Python dependencies from the lockfile (installs uv if missing)
	@command -v $(UV) >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen

dev: install  ## Run the backend with reload on a local PostgreSQL (or DATABASE_URL), migrated
	$(UV) run taskchat dev

test: install  ## Run every test (starts its own PostgreSQL)
	$(UV) run pytest

lint: install
	$(UV) run ruff check .
	$(UV) run ruff format --check .

format:
	$(UV) run ruff format .
	$(UV) run ruff check --fix .

typecheck: install
	$(UV) run mypy

check: test lint typecheck  ## What to run before each commit (and what CI runs)

migrate: install
	$(UV) run taskchat migrate

bench: install  ## Benchmarks (not tests): print ratios against a baseline measured in the same run
	-$(UV) run python bench/store_pagination.py
	-$(UV) run python bench/chatkit_overhead.py
	-$(UV) run python bench/mcp_overhead.py
