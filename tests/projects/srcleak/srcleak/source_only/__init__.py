# Present in the source tree, absent from the wheel (see pyproject.toml).
HERE = True
