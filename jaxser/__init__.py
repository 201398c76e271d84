"""jaxser: cross-corpus speech emotion recognition in JAX."""
