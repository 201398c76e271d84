"""DIDAN/LIDAN's regression model: the backbone, then three fully connected layers.

FC1 and FC2 are Dense-ReLU(-Dropout) layers, FC3 is the linear output, one unit
per emotion: regressed onto one-hot labels (MSE) or read as logits (CE).
Outputs: "fc1", "fc2", "fc3" (the layers IDA can align), "logits" (= fc3, for
evaluation) and "features" (= fc2, the last hidden layer, for the plots).
"""

import flax.linen as nn
import jax


class RegressionModel(nn.Module):
    backbone: nn.Module
    num_classes: int
    fc_dims: tuple[int, int] = (256, 128)
    dropout: float = 0.1

    @nn.compact
    def __call__(
        self, x_BxTxF: jax.Array, mask_BxT: jax.Array, *, train: bool, grl_lambda=0.0
    ) -> dict[str, jax.Array]:
        f = self.backbone(x_BxTxF, mask_BxT, train=train)
        fc1 = nn.relu(nn.Dense(self.fc_dims[0], name="fc1")(f))
        h = nn.Dropout(self.dropout, deterministic=not train)(fc1)
        fc2 = nn.relu(nn.Dense(self.fc_dims[1], name="fc2")(h))
        h = nn.Dropout(self.dropout, deterministic=not train)(fc2)
        fc3 = nn.Dense(self.num_classes, name="fc3")(h)
        return {"fc1": fc1, "fc2": fc2, "fc3": fc3, "logits": fc3, "features": fc2}
