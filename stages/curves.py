"""DVC stage `curves`: every variant's validation curves in one long-format table for comparison charts."""

from fmnist.core.config import load_params
from fmnist.core.errors import exit_on_error
from fmnist.core.io import write_text
from fmnist.core.stage_args import finish, parse_stage_args
from fmnist.train.livelog import CURVE_COLUMNS, curve_rows


@exit_on_error
def main() -> None:
    args = parse_stage_args(__doc__, live_dir="DVCLive folders, one per variant", out="output TSV")
    params = load_params(args.params)
    rows = curve_rows(args.live_dir, params.trained)
    lines = ["\t".join(CURVE_COLUMNS)] + ["\t".join(str(row[c]) for c in CURVE_COLUMNS) for row in rows]
    write_text(args.out, "\n".join(lines) + "\n")
    print(f"curves: {len(rows)} epochs of {len(params.trained)} variants -> {args.out}")


if __name__ == "__main__":
    main()
    finish()
