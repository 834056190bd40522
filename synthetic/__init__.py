"""The synthetic bank behind ``c360 generate``: three source systems' extracts and the ground
truth of who is who. A development and test tool: it writes files the ETL reads, never the graph."""

from synthetic.bank import GenerateOptions, generate_bank

__all__ = ["GenerateOptions", "generate_bank"]
