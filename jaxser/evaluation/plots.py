"""Figures of a run: the confusion matrix and a 2-D map of source and target features."""

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def _pyplot():
    """matplotlib's pyplot, headless; imported when a figure is drawn (a second or
    more: not on the way to a config error or `--help`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def confusion_png(conf: np.ndarray, classes: Sequence[str], path: Path, title: str = "") -> None:
    plt = _pyplot()
    conf = np.asarray(conf)
    rows = np.maximum(conf.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(1.0 + 0.7 * len(classes), 0.8 + 0.7 * len(classes)))
    ax.imshow(conf / rows, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(classes)):
        for j in range(len(classes)):
            ax.text(
                j,
                i,
                f"{conf[i, j]}",
                ha="center",
                va="center",
                color="white" if conf[i, j] / rows[i, 0] > 0.5 else "black",
                fontsize=8,
            )
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def embed_2d(features: np.ndarray, seed: int = 0) -> tuple[np.ndarray, str]:
    """t-SNE of the rows (PCA above 3000 rows, where t-SNE gets slow)."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    if len(features) > 3000:
        return PCA(2, random_state=seed).fit_transform(features), "PCA"
    perplexity = float(min(30, max(5, len(features) // 4)))
    tsne = TSNE(2, perplexity=perplexity, init="pca", random_state=seed)
    return tsne.fit_transform(features), "t-SNE"


def features_png(
    source: np.ndarray,
    source_labels: np.ndarray,
    target: np.ndarray,
    target_labels: np.ndarray,
    classes: Sequence[str],
    path: Path,
    title: str = "",
    seed: int = 0,
) -> None:
    """Source (circles) and target (crosses) features, coloured by emotion."""
    plt = _pyplot()
    xy, how = embed_2d(np.concatenate([source, target]).astype(np.float64), seed)
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    cmap = plt.get_cmap("tab10")
    n = len(source)
    for c, name in enumerate(classes):
        for part, labels, marker, tag in (
            (slice(0, n), source_labels, "o", "source"),
            (slice(n, None), target_labels, "x", "target"),
        ):
            sel = labels == c
            ax.scatter(
                *xy[part][sel].T,
                s=10,
                marker=marker,
                color=cmap(c % 10),
                alpha=0.6,
                label=f"{name} ({tag})" if tag == "source" else None,
            )
    ax.scatter([], [], marker="x", color="gray", label="target (x)")
    ax.legend(fontsize=7, markerscale=1.5, loc="best")
    ax.set_title(f"{title} ({how}; o source, x target)", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def ood_png(scores: dict, path: Path, title: str = "") -> None:
    """One panel per OOD score: histograms of in-distribution and OOD utterances.
    `scores`: score name -> {"in": [...], "out": [...]}."""
    plt = _pyplot()
    names = list(scores)
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 2.8), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        values = np.concatenate([scores[name]["in"], scores[name]["out"]])
        bins = np.linspace(values.min(), values.max() + 1e-12, 30)
        ax.hist(scores[name]["in"], bins, alpha=0.6, density=True, label="in-distribution")
        ax.hist(scores[name]["out"], bins, alpha=0.6, density=True, label="OOD")
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
    axes[0][0].legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
