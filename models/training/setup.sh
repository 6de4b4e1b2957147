# Sourced by the training scripts (from the repository root): tsx from node_modules, and the Python
# environment (.tools/models-venv, pinned by models/training/requirements.txt), created once and
# updated when the pins change. The stamp is the one stack/ensure-tools.cjs writes, so either may
# create the environment.
start=$(date +%s)
TSX=node_modules/.bin/tsx
[ -x "$TSX" ] || { echo "node_modules missing: run npm ci first" >&2; exit 1; }
VENV=.tools/models-venv
PY=$VENV/bin/python
stamp=$VENV/.requirements.sha256
want=$(sha256sum models/training/requirements.txt | cut -d' ' -f1)
if [ ! -x "$PY" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "== Python environment ($VENV)"
  [ -x "$PY" ] || python3 -m venv "$VENV"
  "$PY" -m pip install --quiet --disable-pip-version-check -r models/training/requirements.txt
  echo "$want" > "$stamp"
fi
