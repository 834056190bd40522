"""The synthetic bank behind ``c360 generate``: three source systems' extracts and the ground truth."""

from etl.generate.bank import GenerateOptions, generate_bank

__all__ = ["GenerateOptions", "generate_bank"]
