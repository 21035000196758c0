# The two commands of the README: `make verify` (the main job) and `make test` (the suite).
# Both install what they need beyond Rust: GMP/MPFR (built by gmp-mpfr-sys under rug) need `m4`.

CARGO ?= cargo

.PHONY: deps verify test python-test fuzz derive bench compare fmt

deps:
	@if ! command -v m4 >/dev/null 2>&1; then \
	  echo "m4 is missing (GMP's build needs it); installing it with apt-get"; \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && apt-get install -y -qq m4 >/dev/null || { echo "error: apt-get could not install m4" >&2; exit 1; }; \
	  elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then \
	    sudo apt-get update -qq && sudo apt-get install -y -qq m4 >/dev/null || { echo "error: sudo apt-get could not install m4" >&2; exit 1; }; \
	  else \
	    echo "error: m4 is not installed and there is no apt-get to install it; install m4 with your package manager and re-run" >&2; exit 1; \
	  fi; \
	fi

## Verify every claim and print the verdicts (exit 1 on a verdict regression).
verify: deps
	$(CARGO) run --release --quiet -p sslproof-cli -- verify

## The whole test suite: first the loss crate alone (it and the Python extension must build without
## symbolica: a path from either to symbolica fails the first line), then every other crate in the default build (symbolic
## checks on), which also leaves the default `sslproof` binary in target/release/; then the Python
## package (python-test).
test: deps
	@for p in sslproof-losses sslproof-python; do \
	  out=$$($(CARGO) tree -p $$p -e normal,build,dev -i symbolica 2>&1); \
	  case "$$out" in *"did not match any packages"*) ;; \
	    *) echo "error: $$p must build without symbolica, but it reaches it:" >&2; echo "$$out" >&2; exit 1;; esac; \
	done
	$(CARGO) test --release -p sslproof-losses
	$(CARGO) test --release --workspace --exclude sslproof-losses --exclude sslproof-python
	$(MAKE) --no-print-directory python-test

## The Python package: `pip install ./python` into a virtual environment under target/ (numpy,
## pytest and, for the build, maturin from PyPI), then pytest on python/tests. The torch and JAX
## tests skip, with the reason, where those frameworks are not installed in that environment; the
## CLI comparison uses the binary `make test` just built.
PYENV ?= target/pyenv
python-test: deps
	@test -x $(PYENV)/bin/python || python3 -m venv $(PYENV)
	$(PYENV)/bin/pip install --quiet --disable-pip-version-check numpy pytest
	$(PYENV)/bin/pip install --quiet --disable-pip-version-check ./python
	SSLPROOF=$(CURDIR)/target/release/sslproof $(PYENV)/bin/python -m pytest -q python/tests

## The bounded-time fuzzer of what `check` reads (.npy, .npz, the check pipeline); fails on a
## panic and saves the input under fuzz/crashes/. FUZZ_SECONDS=60 by default.
FUZZ_SECONDS ?= 60
fuzz: deps
	$(CARGO) run --release --quiet -p sslproof-fuzz -- --seconds $(FUZZ_SECONDS)

## Regenerate docs/derivations/.
derive: deps
	$(CARGO) run --release --quiet -p sslproof-cli -- derive

## criterion benchmarks.
bench: deps
	$(CARGO) bench

## Side-by-side comparison with SymPy and mpmath (own virtual environment, pinned versions).
compare: deps
	bash benches/compare/run.sh

fmt:
	$(CARGO) fmt --all
