def is_even(n):
    █