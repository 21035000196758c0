# The two commands of the README: `make verify` (the main job) and `make test` (the suite).
# Both install what they need beyond Rust: GMP/MPFR (built by gmp-mpfr-sys under rug) need `m4`.

CARGO ?= cargo

.PHONY: deps verify test fuzz derive bench compare fmt

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

## The whole test suite: first the loss crate alone (it must build and pass without symbolica: a
## path from it to symbolica fails the first line), then every other crate in the default build (symbolic
## checks on), which also leaves the default `sslproof` binary in target/release/.
test: deps
	@out=$$($(CARGO) tree -p sslproof-losses -e normal,build,dev -i symbolica 2>&1); \
	case "$$out" in *"did not match any packages"*) ;; \
	  *) echo "error: sslproof-losses must build without symbolica, but it reaches it:" >&2; echo "$$out" >&2; exit 1;; esac
	$(CARGO) test --release -p sslproof-losses
	$(CARGO) test --release --workspace --exclude sslproof-losses

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
