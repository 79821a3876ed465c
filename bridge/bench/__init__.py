"""``bufbridge bench``: compare profiles on the user's own code and prompts.

``tasks`` cuts holes out of files and reads chat tasks, ``runner`` asks each
profile through the editor's own request path, ``scoring`` scores and
summarises, ``results`` keeps the JSON result file, ``report`` draws the
terminal table, the comparison and the HTML report, ``main`` ties them
together. Nothing here is imported by the filter itself.
"""
