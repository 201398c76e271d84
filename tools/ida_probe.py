"""How much a run's IDA loss can still see, layer by layer.

    python tools/ida_probe.py runs/didan            # a finished didan / lidan run
    python tools/ida_probe.py runs/didan --init     # the same model at initialisation

For each layer IDA can align (fc1, fc2, fc3) it draws `--draws` pairs of a
class-balanced source batch and a batch of the same size from a reference set,
and reports the mean relative IDA value (the run's `didan.mu`, ridge) of
reconstructing the reference rows from the source rows:

- target: rows of the unlabelled target corpus (what IDA aligns);
- source: other rows of the source corpus (no domain gap: IDA's floor);
- gaussian: random rows with each feature's target mean and spread (no
  structure at all: if these are reconstructed too, the layer is narrower than
  the source batch can span and IDA there is nearly vacuous).

Also the source batch's effective rank: how many singular values hold 99% of
its energy. Features are per evaluation window (3 s crops). No target labels
are used.
"""

import argparse
from pathlib import Path

import numpy as np

from jaxser import experiment
from jaxser.data import pipeline
from jaxser.evaluation.forward import make_forward
from jaxser.losses import ida as ida_lib

LAYERS = ("fc1", "fc2", "fc3")


def layer_features(method, state, split, config, crop_frames: int) -> tuple[dict, np.ndarray]:
    """Per evaluation window: {layer: [W, D]} and the window's utterance label."""
    forward = make_forward(method.model, LAYERS)
    variables = {"params": state.params, "batch_stats": state.batch_stats}
    feats, labels = {k: [] for k in LAYERS}, []
    ds = pipeline.eval_dataset(split, config.train.eval_batch_size, crop_frames)
    for batch in pipeline.as_numpy(ds):
        keep = batch["valid"]
        out = forward(variables, batch["x"], batch["mask"])
        for k, layer in zip(LAYERS, out, strict=True):
            feats[k].append(np.asarray(layer)[keep])
        labels.append(batch["label"][keep])
    return {k: np.concatenate(v) for k, v in feats.items()}, np.concatenate(labels)


def effective_rank(h: np.ndarray, energy: float = 0.99) -> int:
    s2 = np.linalg.svd(h, compute_uv=False) ** 2
    return int(np.searchsorted(np.cumsum(s2) / max(s2.sum(), 1e-30), energy) + 1)


def probe(source: dict, source_labels, target: dict, mu: float, batch: int, draws: int, seed=0):
    rng = np.random.default_rng(seed)
    classes = np.unique(source_labels)
    per_class = batch // len(classes)
    rows = {}
    for layer in LAYERS:
        hs_all, ht_all = source[layer], target[layer]
        values = {"target": [], "source": [], "gaussian": []}
        ranks = []
        for _ in range(draws):
            pick = np.concatenate(
                [rng.choice(np.flatnonzero(source_labels == c), per_class, False) for c in classes]
            )
            rest = np.setdiff1d(np.arange(len(hs_all)), pick)
            hs = hs_all[pick].astype(np.float32)
            refs = {
                "target": ht_all[rng.choice(len(ht_all), batch, False)],
                "source": hs_all[rng.choice(rest, batch, False)],
                "gaussian": rng.normal(ht_all.mean(0), ht_all.std(0) + 1e-6, (batch, hs.shape[1])),
            }
            for name, ht in refs.items():
                values[name].append(float(ida_lib.ida(hs, ht.astype(np.float32), mu)))
            ranks.append(effective_rank(hs))
        rows[layer] = {k: float(np.mean(v)) for k, v in values.items()} | {
            "width": hs_all.shape[1],
            "source_rank99": float(np.mean(ranks)),
        }
    return rows


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("workdir", type=Path)
    p.add_argument("--init", action="store_true", help="probe the model at initialisation")
    p.add_argument("--draws", type=int, default=20)
    args = p.parse_args()
    if args.init:  # the run's model as `setup` initialises it (no checkpoint read)
        config, stage = experiment.saved_run(args.workdir)  # read as data, no code run
        exp = experiment.setup(config, stage=stage)
    else:
        exp = experiment.restore(args.workdir)
    config, method, state, data = exp.config, exp.method, exp.state, exp.data
    src, src_labels = layer_features(method, state, data.source, config, exp.crop_frames)
    tgt, _ = layer_features(method, state, data.target_test, config, exp.crop_frames)
    rows = probe(src, src_labels, tgt, config.didan.mu, config.train.batch_size, args.draws)
    print(f"# {args.workdir} ({'initialisation' if args.init else f'step {int(state.step)}'})")
    print("| layer | width | source batch rank (99%) | IDA target | IDA source | IDA gaussian |")
    print("|---|---|---|---|---|---|")
    for layer, r in rows.items():
        print(
            f"| {layer} | {r['width']} | {r['source_rank99']:.1f} | {r['target']:.3f} | "
            f"{r['source']:.3f} | {r['gaussian']:.3f} |"
        )


if __name__ == "__main__":
    main()
