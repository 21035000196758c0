# Sourced by the comparison scripts: sets $here, $root and $venv (benches/compare/.venv, created
# on first use) and installs the pinned requirements file named by the caller.
#   usage: . "$(dirname "$0")/venv.sh" REQUIREMENTS_FILE
here="$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q -r "$here/$1"
cd "$root"
