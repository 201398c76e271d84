"""Emo-DNA: contrastive emotion decoupling + dual-level (class and corpus) alignment.

    python -m jaxser.train --config configs/emodna.py

The project's main job: synth_emodb -> synth_casia by default. Every design
decision is an option, documented in jaxser/methods/emodna.py. Ablations
(config only):

    # without contrastive decoupling
    python -m jaxser.train --config configs/emodna.py --config.loss_weights.cd=0
    # without corpus-level alignment (discriminator behind gradient reversal)
    python -m jaxser.train --config configs/emodna.py --config.loss_weights.adv=0
    # without class-level alignment (pseudo-labels)
    python -m jaxser.train --config configs/emodna.py --config.loss_weights.pl=0
    # fixed instead of adaptive thresholds (or flexmatch)
    python -m jaxser.train --config configs/emodna.py --config.loss.threshold=fixed
    # orthogonality instead of contrastive decoupling
    python -m jaxser.train --config configs/emodna.py --config.losses.cd=orthogonality
    # + a diversity term against a collapse onto few classes (not in the paper)
    python -m jaxser.train --config configs/emodna.py --config.loss_weights.div=1
    # TIM-Net backbone on 39 MFCC
    python -m jaxser.train --config configs/emodna.py --config.model.backbone=timnet \\
        --config.data.features=mfcc

`python tools/ablate.py` runs them all for a task and seeds and prints a table.
"""

from configs import base


def get_config():
    c = base.get_config()
    c.method = "emodna"
    c.model.proj_dim = 128
    c.model.proj_hidden = 256
    c.losses.cd = "contrastive_decoupling"
    c.losses.adv = "adversarial"
    c.losses.corpus = "corpus_classification"
    c.losses.pl = "pseudo_label"
    c.losses.div = "diversity"  # off by default (not in METHODS.md); see below
    c.loss_weights.cd = 0.1
    c.loss_weights.adv = 1.0
    c.loss_weights.corpus = 0.1
    c.loss_weights.pl = 1.0
    c.loss_weights.div = 0.0
    c.loss.cd_temperature = 0.1
    c.loss.threshold = "freematch"  # or "flexmatch", "fixed"
    c.loss.threshold_momentum = 0.0  # 0: 1 - 1 / (threshold_horizon * steps); or e.g. 0.999
    c.loss.threshold_horizon = 0.1  # the thresholds' EMA time constant, as a share of the run
    c.loss.fixed_threshold = 0.95
    c.loss.pl_warmup = 0.1  # share of steps without pseudo-labels
    return c
