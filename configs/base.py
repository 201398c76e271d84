"""Shared defaults of every method config (not a method of its own: use source_only.py).

Task: synth_emodb -> synth_casia (the built-in synthetic corpora), categorical,
classes = the emotions both share. Change the task with overrides, e.g.
    --config.data.source=synth_casia --config.data.target=synth_emodb
"""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.method = "source_only"
    c.seed = 0

    c.data = ml_collections.ConfigDict()
    c.data.source = "synth_emodb"
    c.data.target = "synth_casia"
    c.data.label_space = "categorical"  # or "arousal", "valence" (binary; every utterance)
    c.data.classes = ""  # categorical: comma-separated; empty: the emotions both corpora share
    # Binary spaces: comma-separated emotions of a half; "" keeps jaxser/data/labels.py's table.
    c.data.arousal_high = ""
    c.data.arousal_low = ""
    c.data.valence_negative = ""
    c.data.valence_positive = ""
    c.data.data_dir = ""  # empty: $JAXSER_DATA_DIR, else ~/.cache/jaxser
    c.data.protocol = "transductive"  # or "held_out" (target speakers: adapt half / test half),
    # or "loso": single corpus (data.target empty or = source), speaker-independent folds
    c.data.fold = 0  # loso: the fold tested (jaxser/data/tasks.py, loso_folds)
    # Out-of-distribution test: comma-separated emotions held out of training
    # (categorical); their target utterances are scored (jaxser/evaluation/ood.py).
    c.data.ood_classes = ""
    # Share of the source's utterances held out of training (whole speakers) to
    # validate on: the `source-val`, `dev` and `iwcv` model-selection rules
    # (jaxser/evaluation/model_selection.py); 0: none
    c.data.source_val = 0.0
    c.data.normalization = "corpus"  # "corpus", "utterance", "speaker" or "none"
    c.data.crop_seconds = 2.0
    c.data.balanced = False  # class-balanced source batches
    # "logmel", "mfcc", "opensmile:<set>:<lld|functionals>", "ssl:<checkpoint dir>[:<layers>]"
    # or "npy:<dir>" (README "Features")
    c.data.features = "logmel"
    c.data.n_mels = 64
    c.data.sample_rate = 16000

    c.model = ml_collections.ConfigDict()
    # "auto": by data.features ("cnn" for log-mel and MFCC, "mlp" for one vector per
    # utterance, "frames" for frame vectors), or "cnn", "timnet", "frames", "mlp"
    c.model.backbone = "auto"
    c.model.channels = (16, 32, 64, 128)
    c.model.stem_channels = 8
    c.model.convs_per_block = 2
    c.model.residual = False  # backbone "cnn": residual blocks (MSAC-SERNet's)
    c.model.dropout = 0.1
    c.model.bottleneck_dim = 128
    c.model.discriminator_hidden = 256
    c.model.compute_dtype = "auto"  # "auto" (bfloat16 on GPU/TPU, float32 on CPU), ...
    c.model.timnet_features = 64  # backbone "timnet" (with data.features = "mfcc")
    c.model.timnet_blocks = 8
    c.model.frames_features = 256  # backbone "frames" (jaxser/models/frames.py): projection width
    c.model.frames_pooling = "attentive"  # backbone "frames": "attentive" or "mean"
    c.model.mlp_features = 256  # backbone "mlp" (jaxser/models/mlp.py): hidden width
    c.model.mlp_layers = 2  # backbone "mlp": Dense-LayerNorm-ReLU blocks

    c.train = ml_collections.ConfigDict()
    c.train.steps = 300
    c.train.batch_size = 32  # utterances per corpus (global, over all devices)
    c.train.optimizer = "adam"  # "adam" (AdamW) or "sgd" (momentum)
    c.train.learning_rate = 1e-3
    c.train.weight_decay = 1e-4
    c.train.momentum = 0.9
    c.train.warmup_steps = 50
    c.train.grad_clip = 5.0
    c.train.log_every = 25
    c.train.eval_every = 150
    c.train.eval_batch_size = 64
    c.train.checkpoint_every = 150
    c.train.keep_checkpoints = 2
    c.train.pretrain = ""  # a config file run first as a stage; this run starts from it
    c.train.pretrain_steps = 0
    c.train.pretrain_cache = ""  # shared stages, one per stage config; empty: <data dir>/models
    # XLA's compiled programs (jaxser/compilation.py): a folder, or "off"; empty:
    # $JAXSER_COMPILATION_CACHE, else <data dir>/xla_cache. Not part of a run's identity.
    c.train.compilation_cache = ""

    c.train.lr_multipliers = ""  # "regex=multiplier,...": over parameter paths; 0 freezes
    c.train.odin_temperature = 1000.0  # ODIN (Liang et al. 2018), the OOD evaluation
    c.train.odin_epsilon = 0.0014  # input perturbation, in normalised feature units
    c.train.evaluators = ""  # comma-separated, beside "classification" (always on): "source"

    # Named schedules of training progress p in [0, 1] (jaxser/methods/schedules.py).
    c.schedules = ml_collections.ConfigDict()
    c.schedules.grl = dict(kind="sigmoid", gamma=10.0, scale=1.0)  # gradient reversal strength
    c.schedules.ramp = dict(kind="sigmoid", gamma=10.0, scale=1.0)  # ramped term weights

    # One entry per loss term: its function, its weight (0 = off), an optional
    # schedule its weight follows, and the function's own options.
    c.terms = ml_collections.ConfigDict()
    c.terms.cls = dict(fn="cross_entropy", weight=1.0, label_smoothing=0.1)
    # A collapse guard every classifier can switch on (weight 0: off): the target
    # batch's mean prediction is pushed towards uniform over the classes.
    c.terms.div = dict(fn="diversity", weight=0.0)
    return c


def source_free_config() -> ml_collections.ConfigDict:
    """Shared defaults of the source-free methods (shot, nrc, aad, ecan;
    jaxser/methods/source_free.py): stage 1 trains configs/source_model.py on
    the source alone, once per source corpus, label space, classes, seed and
    stage config; stage 2 adapts it on target batches only."""
    c = get_config()
    c.source_model = ""  # a source model's run folder to adapt instead of training stage 1
    c.train.pretrain = "source_model.py"
    c.train.pretrain_steps = 300
    # Adapting a trained model: 10x below source training [decision, development
    # tasks, docs/results.md "Source-free adaptation": better for all four methods].
    c.train.learning_rate = 1e-4
    c.terms = ml_collections.ConfigDict()  # no source term: the source is gone
    c.source_free = ml_collections.ConfigDict()
    c.source_free.freeze_classifier = False
    c.source_free.backbone_lr = 0.1  # the backbone adapts 10x slower (as in the references)
    c.source_free.refresh_every = 0  # SHOT's pseudo-labels: 0 = every epoch of the target
    return c


def search_space() -> dict:
    """Where every method's settings are searched (`python -m jaxser.sweep --search N`,
    jaxser/search.py): the learning rate and its linear warm-up from 0."""
    return {
        "train.learning_rate": ("log", 3e-4, 3e-3),
        "train.warmup_steps": ("choice", 0, 50, 100),
    }


def adaptation_search_space() -> dict:
    """The methods that align a labelled source with a target: the shared
    dimensions, and the warm start (adaptation starting from a source-only model
    trained first for 150 or 300 steps, a stage shared by every draw of a task
    and seed; or none)."""
    return search_space() | {
        "train.pretrain,train.pretrain_steps": (
            "choice",
            ("", 0),
            ("source_only.py", 150),
            ("source_only.py", 300),
        ),
    }


def source_free_search_space() -> dict:
    """The source-free methods' shared dimensions: the adaptation's learning rate
    (the source model, a stage, is not searched) and its warm-up. Not adapting is
    always a candidate: the loop evaluates the source model at step 0."""
    return {
        "train.learning_rate": ("log", 3e-5, 1e-3),
        "train.warmup_steps": ("choice", 0, 50, 100),
        "source_free.backbone_lr": ("choice", 0.1, 1.0),
    }
