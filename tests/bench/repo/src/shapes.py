"""Areas and perimeters of simple shapes."""

import math


def circle_area(radius):
    if radius < 0:
        raise ValueError("negative radius")
    return math.pi * radius * radius


def rectangle_area(width, height):
    return width * height


def square_perimeter(side):
    return 4 * side


class Triangle:
    def __init__(self, a, b, c):
        self.sides = (a, b, c)

    def perimeter(self):
        return sum(self.sides)
