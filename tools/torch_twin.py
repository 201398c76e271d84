"""A PyTorch twin of jaxser's default backbone and source-only step, for benchmarks.

Same shapes and the same computation as `jaxser.models.CNN` + `SERModel` and the
train step (jaxser/training/step.py): the source and target halves are forwarded together, CE with
label smoothing on the source half, gradient clipping, AdamW with warm-up +
cosine. Not part of jaxser (which needs no PyTorch): `pip install ".[bench]"`.
"""

import math

import torch
from torch import nn


class TwinCNN(nn.Module):
    def __init__(
        self,
        num_classes=5,
        channels=(32, 64, 128, 256),
        stem=16,
        convs=2,
        bottleneck=256,
        dropout=0.1,
    ):
        super().__init__()
        layers = [
            nn.Conv2d(1, stem, 5, stride=2, padding=2, bias=False),
            nn.BatchNorm2d(stem),
            nn.ReLU(),
            nn.MaxPool2d(2),
        ]
        c_in = stem
        for i, c in enumerate(channels):
            for _ in range(convs):
                layers += [
                    nn.Conv2d(c_in, c, 3, padding=1, bias=False),
                    nn.BatchNorm2d(c),
                    nn.ReLU(),
                ]
                c_in = c
            if i < len(channels) - 1:
                layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.bottleneck = nn.Linear(c_in, bottleneck)
        self.classifier = nn.Linear(bottleneck, num_classes)

    def forward(self, x_BxTxF):
        h = self.features(x_BxTxF[:, None])
        h = self.dropout(h.mean((2, 3)))  # every frame valid in the benchmark batches
        return self.classifier(torch.relu(self.bottleneck(h)))


def make_step(
    model, steps=300, lr=1e-3, warmup=50, weight_decay=1e-4, clip=5.0, label_smoothing=0.1
):
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)

    def lr_at(step):
        if step < warmup:
            return step / warmup
        p = (step - warmup) / max(steps - warmup, 1)
        return 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(p, 1.0)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=label_smoothing)

    def step(x_src, y_src, x_tgt):
        b = x_src.shape[0]
        logits = model(torch.cat([x_src, x_tgt]))
        loss = loss_fn(logits[:b], y_src)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        sched.step()
        return loss

    return step
