"""SPRM: a self-supervised process reward model trained from outcome labels alone.

A frozen text encoder turns each step (with its problem and the steps before it)
into a feature vector; a small MLP head (MetaStone-S1, arXiv 2507.01951) turns the
feature into a step score; the SPR loss trains the head from the solution's outcome
label only. Nothing here imports Django.
"""
