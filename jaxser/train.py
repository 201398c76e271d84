"""Train a method: `python -m jaxser.train --config configs/emodna.py [--workdir DIR]`.

Overrides: any config key, e.g. `--config.data.source=synth_casia
--config.train.steps=1000 --config.terms.adv.weight=0`. An unknown key, method,
loss function or option fails before any work, listing the known ones. The run
resumes from DIR's last checkpoint if DIR holds the same config. At the end,
`DIR/results.json` holds the target metrics; the last line printed is its path.
"""

import argparse
import sys
from pathlib import Path

from jaxser import cli, experiment, host_memory, run_folder
from jaxser import config as config_lib
from jaxser.data import tasks
from jaxser.evaluation.results import summary_line


def default_workdir(config) -> Path:
    d = config.data
    single = d.protocol in tasks.SINGLE_CORPUS
    task = f"{d.source}-{d.protocol}-fold{d.fold}" if single else f"{d.source}-{d.target}"
    return Path("runs") / f"{config.method}-{task}-seed{config.seed}"


def frozen_line(path: str, config, frozen: dict) -> str:
    """What a run takes from its config file's `frozen()`, said before it starts."""
    key = config_lib.frozen_key(config.data.label_space, config.data.protocol)
    setting = ", ".join(f"{k}={v}" for k, v in frozen.items())
    return (
        f"{path}: the setting frozen for {key} (its frozen(), chosen on the development "
        f"tasks): {setting}; a --config.KEY=VALUE overrides it, --defaults runs the "
        "file's own defaults"
    )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m jaxser.train",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--config", required=True, help="a config file, e.g. configs/dann.py")
    p.add_argument("--workdir", help="run folder (default runs/<method>-<source>-<target>-seed<n>)")
    p.add_argument(
        "--max_steps",
        type=int,
        default=None,
        help="stop after this many steps in this invocation (resume later)",
    )
    p.add_argument("--no_progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--defaults",
        action="store_true",
        help="the config file's own defaults, not the setting its frozen() holds for "
        "this label space and protocol (a run as it was before the setting was frozen)",
    )
    p.add_argument(
        "--allow_device_change",
        action="store_true",
        help="resume a run on another platform or compute dtype than it started on",
    )
    cli.add_debug(p)
    args, overrides = p.parse_known_args(argv)
    bad = [o for o in overrides if not o.startswith("--config.")]
    if bad:
        p.error(f"unrecognised arguments {bad}; overrides look like --config.train.steps=100")
    if args.max_steps is not None and args.max_steps < 1:
        p.error(f"--max_steps {args.max_steps}: at least 1")
    debug = cli.debugging(args)
    with cli.one_line_errors(debug):
        host_memory.configure()  # before TensorFlow's and XLA's threads start
        config, frozen = config_lib.load_frozen(args.config, overrides, not args.defaults)
        experiment.check(config)  # before TensorFlow is imported: a typo fails in a second
        workdir = Path(args.workdir) if args.workdir else default_workdir(config)
        run_folder.check_folder(workdir)
        if frozen:
            print(frozen_line(args.config, config, frozen), file=sys.stderr)

    from jaxser.training.checkpoints import DamagedCheckpoint
    from jaxser.training.loop import Interrupted, NonFiniteLoss
    from jaxser.training.runtime import DeviceChanged

    try:
        with cli.one_line_errors(debug, NonFiniteLoss, DamagedCheckpoint, DeviceChanged):
            r = experiment.train(
                config,
                workdir,
                max_steps=args.max_steps,
                progress=not args.no_progress,
                allow_device_change=args.allow_device_change,
            )
    except Interrupted as e:
        print(e, file=sys.stderr)
        sys.exit(130)  # the shell's status for a run stopped by Ctrl-C
    except KeyboardInterrupt:
        if debug:
            raise
        sys.exit(f"interrupted before training started in {workdir}; run the same command again")
    if "interrupted_at" in r:
        print(
            f"stopped at step {r['interrupted_at']}; run the same command to resume",
            file=sys.stderr,
        )
        return
    print(summary_line(r), file=sys.stderr)
    print(workdir / "results.json")


if __name__ == "__main__":
    main()
