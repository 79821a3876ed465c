def sum_squares(xs):
    total = 0
    for x in xs:
        █
    return total


print(sum_squares([1, 2, 3]))
