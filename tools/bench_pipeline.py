"""Input-pipeline throughput from a prepared store, in paired batches per second.

    python tools/bench_pipeline.py --source synth_emodb --target synth_casia

Builds the training stream of the task (preparing synthetic corpora if needed),
warms it up, then times N batches pulled as numpy pytrees (what the train loop
consumes). Reports the median of several repeats.
"""

import argparse
import itertools
import statistics
import time

from jaxser.data import pipeline


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--source", default="synth_emodb")
    p.add_argument("--target", default="synth_casia")
    p.add_argument("--data_dir", default=None)
    p.add_argument("--batch_size", type=int, default=32, help="utterances per corpus")
    p.add_argument("--crop_seconds", type=float, default=3.0)
    p.add_argument("--balanced", action="store_true")
    p.add_argument("--batches", type=int, default=500)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()

    data = pipeline.load_task(pipeline.Task(args.source, args.target), args.data_dir)
    crop = round(args.crop_seconds * 100)
    it = pipeline.as_numpy(
        pipeline.train_dataset(data, args.batch_size, crop, balanced=args.balanced)
    )
    for _ in itertools.islice(it, 50):  # warm-up: tf.data threads, the first batches
        pass
    rates = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        for _ in itertools.islice(it, args.batches):
            pass
        rates.append(args.batches / (time.perf_counter() - t0))
    b = args.batch_size
    mb = 2 * b * crop * data.source.frames.shape[1] * 4 / 2**20
    print(
        f"{args.source}->{args.target}: {b}+{b} utterances x {args.crop_seconds:g} s "
        f"({mb:.1f} MiB/batch), balanced={args.balanced}"
    )
    print(
        f"batches/s: median {statistics.median(rates):.0f} "
        f"(min {min(rates):.0f}, max {max(rates):.0f}) over {args.repeats} x {args.batches}"
    )


if __name__ == "__main__":
    main()
