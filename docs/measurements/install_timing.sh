#!/usr/bin/env bash
# pip vs uv installing requirements.lock into a fresh venv, each from an empty download cache,
# then `import tensorflow` twice in each venv (PYTHONDONTWRITEBYTECODE=1, as in CI: only the
# bytecode compiled at install time is there).
set -u
cd "$(dirname "$0")/../.."
echo "# $(date -u) $(git rev-parse --short HEAD); CPU: $(lscpu | sed -n 's/^Model name: *//p'), flags: $(grep -o -w -E 'amx_bf16|avx512_bf16|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ')"
for tool in pip uv; do
  rm -rf /tmp/venv-$tool /tmp/cache-$tool; python3 -m venv /tmp/venv-$tool
  start=$(date +%s.%N)
  if [ $tool = pip ]; then
    /tmp/venv-pip/bin/python -m pip install --quiet --disable-pip-version-check --cache-dir /tmp/cache-pip -c requirements.lock -e '.[dev]'
  else
    /tmp/venv-uv/bin/python -m pip install --quiet --disable-pip-version-check --cache-dir /tmp/cache-uv "$(grep -m1 '^uv==' requirements.lock)"
    UV_CACHE_DIR=/tmp/cache-uv /tmp/venv-uv/bin/uv pip install --quiet --compile-bytecode --python /tmp/venv-uv/bin/python -c requirements.lock -e '.[dev]'
  fi
  rc=$?
  end=$(date +%s.%N)
  echo "$tool: rc=$rc $(python3 -c "print(round($end-$start,1))") s, $(/tmp/venv-$tool/bin/python -m pip list --disable-pip-version-check 2>/dev/null | wc -l) packages listed"
  for _ in 1 2; do
    PYTHONDONTWRITEBYTECODE=1 /usr/bin/time -f "$tool: import tensorflow %e s" /tmp/venv-$tool/bin/python -c "import tensorflow" 2>&1 | tail -n 1
  done
done
/tmp/venv-pip/bin/python -m pip freeze --exclude-editable | sort > /tmp/freeze-pip; /tmp/venv-uv/bin/python -m pip freeze --exclude-editable | grep -v '^uv==' | sort > /tmp/freeze-uv
grep -v '^uv==' /tmp/freeze-pip > /tmp/freeze-pip2
if diff /tmp/freeze-pip2 /tmp/freeze-uv; then echo "same packages and versions (pip freeze, uv itself aside)"; fi
echo "# machine: $(/tmp/venv-uv/bin/python -c 'import json; from fmnist.core.system import machine_info; print(json.dumps(machine_info(with_matmul_peak=True)))')"
