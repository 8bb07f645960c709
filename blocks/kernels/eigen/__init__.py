"""placeholder"""
from .ops import TABLES, apply


def supported(op, dtype_name):
    return dtype_name in TABLES and op in TABLES[dtype_name]


def get(op, dtype_name):
    def f(*arrays):
        return apply(op, dtype_name, *arrays)
    return f
