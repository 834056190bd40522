"""The HTTP edge: middleware, the console's OpenID Connect sign-in and its routes."""
