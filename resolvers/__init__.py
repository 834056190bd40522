"""Thin resolvers: parse arguments, ask the policy, call one graph function, return rows."""
