"""Named, parameterised Cypher, one module per aggregate. Never formatted with user input."""


def mean(expr: str) -> str:
    """Cypher for the mean of ``expr`` over a group (null when it has no value), the same whatever
    order the rows come in for whole numbers: a sum over a count. Cypher's ``avg()`` keeps a
    running mean whose last bits follow row order, so an average on a rounding tie (3.845) was
    3.84 in one read and 3.85 in another. ``expr`` is query text, never user input."""
    return f"CASE WHEN count({expr}) > 0 THEN toFloat(sum({expr})) / count({expr}) END"
