"""Per-stage wall times, train times and the non-training overhead of a time-stamped full-run
log (docs/measurements/full_run.sh), read from the log alone, so a run cut short still gives
the stages it finished. Run from the repository root with the venv active:

    python docs/measurements/run_summary.py docs/measurements/full_run_<cpu>.log
"""

import re
import sys
from pathlib import Path

from fmnist.tools.timing import clock_seconds, stage_wall_seconds

TRAIN_LINE = re.compile(r"^\S+ train@(\w+): .*train_seconds=([\d.]+).*precision=(\w+)")
END_LINE = re.compile(r"^exit (\d+) end \S+ wall_seconds (\d+)")
START_LINE = re.compile(r"^start \S+T(\d+):(\d+):(\d+)Z")
STAMP = re.compile(r"^(\d+):(\d+):(\d+) ")


def main(path: str) -> None:
    log = Path(path).read_text()
    walls = stage_wall_seconds(log)
    trained = {m.group(1): (float(m.group(2)), m.group(3)) for m in map(TRAIN_LINE.match, log.splitlines()) if m}
    print(f"# {path}")
    for line in log.splitlines()[:4]:  # CPU, flags, start time and commit
        print(f"# {line}")
    print("| stage | wall s | fit s | precision |")
    print("|---|---:|---:|---|")
    for stage, wall in walls.items():
        fit, precision = trained.get(stage.split("@", 1)[1], ("", "")) if stage.startswith("train@") else ("", "")
        print(f"| {stage} | {wall} | {fit} | {precision} |")
    fit_total = sum(seconds for seconds, _ in trained.values())
    stage_total = sum(walls.values())
    print(f"stages finished: {len(walls)}; stage walls {stage_total} s; fit {fit_total:.0f} s; "
          f"non-training overhead {stage_total - fit_total:.0f} s")
    end = next((m for m in map(END_LINE.match, log.splitlines()) if m), None)
    if end:
        print(f"run exit {end.group(1)}, wall {int(end.group(2))} s = {int(end.group(2)) / 60:.1f} min")
    else:  # no exit line: the run was cut short, or the script lost it; time to the last stamp
        start = next((m for m in map(START_LINE.match, log.splitlines()) if m), None)
        last = [m for m in map(STAMP.match, log.splitlines()) if m][-1:]
        if start and last:
            seconds = (clock_seconds(last[0]) - clock_seconds(start)) % 86400
            print(f"no exit line; start to last time stamp {seconds} s = {seconds / 60:.1f} min")


if __name__ == "__main__":
    main(sys.argv[1])
