# The developer's verbs. `make test` is what CI runs.
.PHONY: install dev frontend test test-backend test-backend-sdk test-frontend lint format typecheck check migrate psql protocol bench

UV ?= uv

# Node packages: not `npm ci`, because the lockfile made here lacks other platforms'
# optional SWC packages, which `npm ci` refuses; `npm install` keeps to the lockfile.
install:  ## Install Python and Node dependencies from their lockfiles (installs uv if missing)
	@command -v $(UV) >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen
	cd frontend && npm install --no-audit --no-fund

dev: install  ## Run the backend with reload on a local PostgreSQL (or DATABASE_URL), migrated
	$(UV) run taskchat dev

frontend: install  ## Run the Next.js app in development mode (against BACKEND_URL, default :8000)
	cd frontend && npm run dev

test: test-backend test-backend-sdk test-frontend  ## Run every test: backend (twice), route handlers, browser (needs chromium)

test-backend: install  ## The backend's tests (start their own PostgreSQL)
	$(UV) run pytest

# Correctness must never depend on an SDK seam (docs/sdk-seams.md).
test-backend-sdk: install  ## The backend's tests again, on the SDKs' own code paths (SDK_SEAMS=off)
	SDK_SEAMS=off $(UV) run pytest

test-frontend: install  ## next build, then the route-handler and browser tests against the real backend
	cd frontend && npm test

lint: install  ## ruff, deptry, ESLint, and the deployment files (docker-compose config, hadolint)
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run deptry src
	cd frontend && npm run lint
	scripts/lint-deploy

format:
	$(UV) run ruff format .
	$(UV) run ruff check --fix .

typecheck: install
	$(UV) run mypy
	cd frontend && npm run typecheck

check: test lint typecheck  ## What to run before each commit (and what CI runs)

migrate: install
	$(UV) run taskchat migrate

# The dev database asks for passwords (scram-sha-256); its files hold the port and them.
psql:  ## psql on this checkout's running dev database, as the superuser (postgres)
	PGPASSWORD="$$(cat .local/postgres/superuser-password)" psql -h 127.0.0.1 -p "$$(cat .local/postgres/port)" -U postgres taskchat

# Tests fail when either generated file is stale (tests/test_protocol_schema.py and
# frontend/tests/protocolTypes.test.ts), so `make check` holds them to the pinned SDK.
protocol: install  ## Regenerate the built-in chat UI's protocol types from the ChatKit SDK
	$(UV) run python scripts/protocol_schema.py
	cd frontend && node scripts/protocol-types.mjs

bench: install  ## Benchmarks (not tests): print ratios against a baseline measured in the same run
	-$(UV) run python bench/store_pagination.py
	-$(UV) run python bench/statement_pool.py
	-$(UV) run python bench/chatkit_overhead.py
	-$(UV) run python bench/turn_cost.py
	-$(UV) run python bench/turn_cost.py --deltas 40
	-$(UV) run python bench/model_pool.py
	-$(UV) run python bench/event_merge.py
	-$(UV) run python bench/turn_agent.py
	-$(UV) run python bench/history_input.py
	-$(UV) run python bench/stream_events.py
	-$(UV) run python bench/stream_memory.py
	-$(UV) run python bench/mcp_overhead.py
	-$(UV) run python bench/startup.py
