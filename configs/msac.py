"""MSAC-SERNet: AM-softmax CNN with Multiple Speech Attribute Control.

    python -m jaxser.train --config configs/msac.py
    # single-corpus, speaker-independent (no corpus head: one corpus)
    python -m jaxser.train --config configs/msac.py --config.data.protocol=loso \
        --config.data.target= --config.data.fold=0 --config.terms.adv.weight=0
    # ablations: no speaker control, no gender task, plain CE instead of AM-softmax,
    # orthogonal attribute embedding instead of speaker reversal, plain CNN blocks
    python -m jaxser.train --config configs/msac.py --config.terms.speaker.weight=0
    python -m jaxser.train --config configs/msac.py --config.terms.gender.weight=0
    python -m jaxser.train --config configs/msac_ce.py
    python -m jaxser.train --config configs/msac_orth.py
    python -m jaxser.train --config configs/msac.py --config.msac.control=confusion \
        --config.terms.confusion.weight=0.3
    python -m jaxser.train --config configs/msac.py --config.model.residual=False

Decisions and options: jaxser/methods/msac.py.
"""

from configs import base


def get_config():
    c = base.get_config()
    c.method = "msac"
    c.model.embedding_dim = 256
    c.model.residual = True
    c.schedules.speaker_grl = dict(kind="sigmoid", gamma=10.0, scale=1.0)
    c.terms = c.terms.__class__()
    c.terms.am = dict(fn="am_softmax", weight=1.0, scale=30.0, margin=0.2)
    c.terms.speaker = dict(fn="speaker_adversarial", weight=0.1)
    c.terms.gender = dict(fn="gender", weight=0.1)
    c.terms.adv = dict(fn="adversarial", weight=1.0)  # cross-corpus: corpus reversal
    # with msac.control="orthogonal" (configs/msac_orth.py)
    c.terms.orth = dict(fn="attribute_orthogonality", weight=0.0)
    # with msac.control="confusion": the embedding made uninformative to the speaker head
    c.terms.confusion = dict(fn="speaker_confusion", weight=0.0)
    c.msac = dict(max_speakers=256, control="reversal")
    return c


def search_space():
    """Beside the learning rate: the margin, the attribute control (how the
    embedding is kept free of speaker identity: reversal, confusion or an
    orthogonal attribute embedding; weight 0 = none), per-speaker
    normalisation, the gender task and the corpus reversal."""
    return base.search_space() | {
        "terms.am.margin": ("choice", 0.1, 0.2, 0.35),
        "msac.control,terms.speaker.weight,terms.confusion.weight,terms.orth.weight": (
            "choice",
            ("reversal", 0.0, 0.0, 0.0),
            ("reversal", 0.1, 0.0, 0.0),
            ("reversal", 0.3, 0.0, 0.0),
            ("confusion", 0.1, 0.1, 0.0),
            ("confusion", 0.1, 0.3, 0.0),
            ("orthogonal", 0.1, 0.0, 0.1),
        ),
        "data.normalization": ("choice", "corpus", "speaker"),
        "terms.gender.weight": ("choice", 0.0, 0.1),
        "terms.adv.weight": ("choice", 0.0, 0.3, 1.0),
    }


def fixed_control_search_space() -> dict:
    """MSAC's space without the attribute-control choice: for the variants that fix
    the control (msac_orth.py, msac_confusion.py), each adding its own weight."""
    return {k: v for k, v in search_space().items() if not k.startswith("msac.control,")}


def frozen():
    """Chosen by `oracle` on the development tasks (tools/freeze.py)."""
    return {
        # draw 6: mean target UAR 0.529 over 12 cells
        "categorical": {
            "data.normalization": "speaker",
            "msac.control": "orthogonal",
            "terms.adv.weight": 1.0,
            "terms.am.margin": 0.35,
            "terms.confusion.weight": 0.0,
            "terms.gender.weight": 0.1,
            "terms.orth.weight": 0.1,
            "terms.speaker.weight": 0.1,
            "train.learning_rate": 0.0022,
            "train.warmup_steps": 50,
        },
        # draw 6: mean target UAR 0.662 over 12 cells
        "categorical, loso": {
            "data.normalization": "speaker",
            "msac.control": "orthogonal",
            "terms.adv.weight": 0.0,
            "terms.am.margin": 0.35,
            "terms.confusion.weight": 0.0,
            "terms.gender.weight": 0.1,
            "terms.orth.weight": 0.1,
            "terms.speaker.weight": 0.1,
            "train.learning_rate": 0.0022,
            "train.warmup_steps": 50,
        },
    }
