"""Named, parameterised Cypher, one module per aggregate. Never formatted with user input."""
