def clamp(x, lo, hi):
    █