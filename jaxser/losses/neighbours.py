"""Losses of source-free adaptation over memory banks of the target (pure maths).

A feature bank holds one L2-normalised feature row per target utterance
(N x D), a score bank one softmax prediction row (N x C). The methods that use
them (jaxser/methods/source_free.py) write the batch's rows before looking up
neighbours, as the reference implementations of NRC and AaD do.

The references compute `F.kl_div(p, s)` with probabilities `p` where PyTorch
expects log-probabilities: per row that is `sum_c s_c log s_c - <s, p>`, whose
first part has no gradient. The losses here are the part with a gradient,
`-<s, p>` (the same training signal; the logged value differs by that
constant).
"""

import jax
import jax.numpy as jnp

from jaxser.losses.contrastive import l2_normalize


def nearest(query_BxD: jax.Array, bank_NxD: jax.Array, self_B: jax.Array, k: int) -> jax.Array:
    """Indices (B x k) of the k bank rows most similar (dot product) to each query,
    never the query's own row `self_B`, even when other rows hold the same
    feature: its similarity is masked out, not its rank skipped."""
    sim = query_BxD @ bank_NxD.T
    own = jnp.arange(bank_NxD.shape[0])[None, :] == self_B[:, None]
    _, idx = jax.lax.top_k(jnp.where(own, -jnp.inf, sim), k)
    return idx


def nrc(
    probs_BxC: jax.Array,
    score_near_BxKxC: jax.Array,
    weight_near_BxK: jax.Array,
    score_far_BxMxC: jax.Array,
    weight_far: float,
) -> jax.Array:
    """NRC (Yang et al. 2021) without its diversity term: each prediction is pulled
    towards the scores of its K neighbours (weight 1 if reciprocal, else the
    weak weight) and of their neighbours (M = K*KK rows, the weak weight)."""
    near = jnp.einsum("bc,bkc->bk", probs_BxC, score_near_BxKxC)
    far = jnp.einsum("bc,bmc->bm", probs_BxC, score_far_BxMxC)
    return -jnp.mean(jnp.sum(weight_near_BxK * near, 1)) - jnp.mean(weight_far * jnp.sum(far, 1))


def attract(probs_BxC: jax.Array, score_near_BxKxC: jax.Array) -> jax.Array:
    """AaD's attraction (Yang et al. 2022): -sum over the K neighbours of <p, s>."""
    return -jnp.mean(jnp.sum(jnp.einsum("bc,bkc->bk", probs_BxC, score_near_BxKxC), 1))


def disperse(probs_BxC: jax.Array) -> jax.Array:
    """AaD's dispersion: sum over the other batch rows of <p_i, p_j>, mean over i."""
    dots = probs_BxC @ probs_BxC.T
    return jnp.mean(jnp.sum(dots, 1) - jnp.diagonal(dots))


def neighbour_infonce(
    anchor_BxD: jax.Array, positives_BxKxD: jax.Array, temperature: float
) -> jax.Array:
    """InfoNCE with K positives per anchor and the other anchors as negatives:
    mean over (i, k) of -log(e^{a_i.p_ik/t} / (e^{a_i.p_ik/t} + sum_{j!=i} e^{a_i.a_j/t})),
    on L2-normalised rows (cosine similarities)."""
    a = l2_normalize(anchor_BxD)
    pos = jnp.einsum("bd,bkd->bk", a, l2_normalize(positives_BxKxD)) / temperature
    neg = a @ a.T / temperature
    neg = jnp.where(jnp.eye(a.shape[0], dtype=bool), -jnp.inf, neg)
    neg_lse = jax.nn.logsumexp(neg, axis=1, keepdims=True)  # B x 1
    return jnp.mean(jnp.logaddexp(pos, neg_lse) - pos)


def centroid_labels(features_NxD: jax.Array, probs_NxC: jax.Array) -> jax.Array:
    """SHOT's self-supervised pseudo-labels (Liang et al. 2020): features with a
    constant 1 appended and L2-normalised; class centroids weighted by the
    predictions; each utterance labelled with its nearest centroid (cosine),
    then one k-means step with those hard labels. Each pass assigns only the
    classes that the labels it starts from hold, as SHOT's `obtain_label`
    rebuilds its label set: the first from the predictions' argmax, the second
    from the first pass's labels (a class the first pass emptied has a zero
    centroid, which must take no utterance)."""
    f = l2_normalize(jnp.concatenate([features_NxD, jnp.ones_like(features_NxD[:, :1])], 1))
    num_classes = probs_NxC.shape[1]

    def assign(weights_NxC, labels_N):
        present = jnp.zeros(num_classes, bool).at[labels_N].set(True)
        centroids = weights_NxC.T @ f / (1e-8 + weights_NxC.sum(0)[:, None])
        cosine = f @ l2_normalize(centroids).T
        return jnp.argmax(jnp.where(present[None, :], cosine, -jnp.inf), 1)

    labels = assign(probs_NxC, jnp.argmax(probs_NxC, 1))
    return assign(jax.nn.one_hot(labels, num_classes), labels)
