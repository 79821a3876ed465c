def load(path):
    █