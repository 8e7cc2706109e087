"""tests/zuul: the consumer example is a project of its own, with its own
tox environment and tests; this session must not collect them."""

collect_ignore = ['consumer']
