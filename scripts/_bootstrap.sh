# Sourced by scripts/run and scripts/test: find Python 3.12+, create .venv, install the project once.
# Re-installs when pyproject.toml changes (its hash is kept in .venv/.llmwall-installed).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

find_python() {
    local candidates=(python3.13 python3.12 python3 python)
    local c
    for c in "${LLMWALL_PYTHON:-}" "${candidates[@]}"; do
        [ -n "$c" ] || continue
        if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
            command -v "$c"; return 0
        fi
    done
    # pyenv installs that are not selected (these machines: 3.11 is python3, 3.12/3.13 live under pyenv)
    local root="${PYENV_ROOT:-$HOME/.pyenv}"
    for c in "$root"/versions/3.1[3-9]*/bin/python3 "$root"/versions/3.12*/bin/python3; do
        if [ -x "$c" ] && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
            echo "$c"; return 0
        fi
    done
    return 1
}

bootstrap() {
    local extras="$1"   # "" or "[test]"
    local stamp="$VENV/.llmwall-installed"
    local want
    want="$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)$extras"
    if [ ! -x "$VENV/bin/python" ]; then
        local py
        py="$(find_python)" || { echo "llmwall: needs Python >= 3.12 (set LLMWALL_PYTHON=/path/to/python3.12)" >&2; exit 1; }
        echo "llmwall: creating $VENV with $py" >&2
        "$py" -m venv "$VENV"
    fi
    if [ ! -f "$stamp" ] || ! grep -qxF -- "$want" "$stamp"; then
        echo "llmwall: installing the project into .venv (first use)" >&2
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$ROOT$extras" >&2
        echo "$want" >> "$stamp"
    fi
}
