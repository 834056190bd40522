"""The relationship network around a customer, ready to draw."""
