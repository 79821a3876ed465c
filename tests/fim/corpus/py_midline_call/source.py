import math


def norm(v):
    return math.sqrt(█)
