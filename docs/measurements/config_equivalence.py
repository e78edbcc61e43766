"""What every stage reads from params.yaml, under two versions of fmnist/core/config.py: the
validated Params (repr) and, per name the pipeline trains or keeps as a preset, `variant()`,
`section()`, `flip_tta()` and `shift_tta()`. Stages read params only through these, so equal
output means a config change cannot alter any committed output (then lock_refresh.py may
record the new code without a re-run).

Usage, from the repository root:
python docs/measurements/config_equivalence.py OLDREF [PARAMS [OLD_PARAMS]]
(OLDREF's fmnist package, unpacked by `git archive`, against the working tree's; PARAMS defaults
to params.yaml, OLD_PARAMS, what the old code reads, to PARAMS: a new top-level section the old
code would refuse is left out there). Params are compared field by field; a field the old code
lacks is listed with its value, which must be its empty default.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

DUMP = """
import dataclasses
import json
import sys
from fmnist.core.config import load_params
params = load_params(sys.argv[1])
names = [*params.variants, *params.students, *params.presets]
fields = {field.name: repr(getattr(params, field.name)) for field in dataclasses.fields(params)}
print(json.dumps({"params": fields, "trained": params.trained, "names": {
    name: [repr(params.variant(name)), params.section(name), params.flip_tta(name), params.shift_tta(name)]
    for name in names}}))
"""


def dump(package_root: Path, params: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-P", "-c", DUMP, params],  # -P: the cwd must not shadow PYTHONPATH
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(package_root)},
    )
    return json.loads(done.stdout)


def main() -> None:
    old_ref, params = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "params.yaml"
    old_params = sys.argv[3] if len(sys.argv) > 3 else params
    with tempfile.TemporaryDirectory() as folder:
        archive = subprocess.run(["git", "archive", old_ref, "fmnist"], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
        old, new = dump(Path(folder), old_params), dump(Path.cwd(), params)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"# old {old_ref} reading {old_params}, new: working tree at {head} reading {params}")
    print(f"names: {', '.join(new['names'])}")
    print(f"trained: {'same' if old['trained'] == new['trained'] else 'DIFFERENT'}")
    added = {field: value for field, value in new["params"].items() if field not in old["params"]}
    common = {field: value for field, value in new["params"].items() if field in old["params"]}
    print(f"validated params, field by field: {'same' if old['params'] == common else 'DIFFERENT'}")
    for field, value in added.items():
        print(f"new field {field}: {value}")
    empty = all(value in ("mappingproxy({})", "None", "()") for value in added.values())
    for name in new["names"]:
        print(f"{name}: {'same' if old['names'][name] == new['names'][name] else 'DIFFERENT'}")
    same = old["trained"] == new["trained"] and old["params"] == common and old["names"] == new["names"]
    print("equivalent" if same and empty else "NOT equivalent")


if __name__ == "__main__":
    main()
