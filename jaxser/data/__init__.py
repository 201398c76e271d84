"""Data layer: corpora, features, prepared stores and the tf.data pipeline."""
