"""Private training data (2020-11-11): InstaHide's encryption, its data, training on encrypted images,
and the attack that recovers the originals."""
