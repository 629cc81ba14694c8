"""NumPy references: Proximal Newton for the sparse logistic and multinomial models."""
